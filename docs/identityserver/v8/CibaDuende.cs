// CibaDuende.cs — ciba-approval for Duende.IdentityServer 8.0.0: the calls the API
// (common/CibaApprovalApi.cs, ICibaDuende) makes to Duende's CIBA interaction service, request store and
// IEventService, with 8.0's signatures: each takes a CancellationToken (Duende's `Ct` alias, required,
// no default), and lists come back as IReadOnlyCollection. Read in Duende's source at tag is-8.0.0 (see
// ../README.md); make test checks these calls against ../duende-members.toml.

using Duende.IdentityServer.Events;
using Duende.IdentityServer.Models;
using Duende.IdentityServer.Services;
using Duende.IdentityServer.Stores;

namespace CibaApproval;

internal sealed class CibaDuende(
    IBackchannelAuthenticationInteractionService interaction,
    IBackChannelAuthenticationRequestStore store,
    IEventService events) : ICibaDuende
{
    public async Task<IEnumerable<BackchannelUserLoginRequest>> GetPendingAsync(CancellationToken ct) =>
        await interaction.GetPendingLoginRequestsForCurrentUserAsync(ct);

    public Task<BackchannelUserLoginRequest?> GetLoginRequestAsync(string internalId, CancellationToken ct) =>
        interaction.GetLoginRequestByInternalIdAsync(internalId, ct);

    public Task<BackChannelAuthenticationRequest?> GetStoredAsync(string internalId, CancellationToken ct) =>
        store.GetByInternalIdAsync(internalId, ct);

    public async Task<IEnumerable<BackChannelAuthenticationRequest>> GetStoredForUserAsync(string subjectId, CancellationToken ct) =>
        await store.GetLoginsForUserAsync(subjectId, ct);

    public Task CompleteAsync(CompleteBackchannelLoginRequest completion, CancellationToken ct) =>
        interaction.CompleteLoginRequestAsync(completion, ct);

    // At tag is-8.0.0 the dotnet-new templates (identity-server/templates/src/*) still reference Duende
    // 7.4.3; the consent page written against 8.0's API, identity-server/hosts/UI/Main/Pages/Ciba/
    // Consent.cshtml.cs, passes a CancellationToken to RaiseAsync as here.
    public Task RaiseEventAsync(Event evt, CancellationToken ct) => events.RaiseAsync(evt, ct);
}
