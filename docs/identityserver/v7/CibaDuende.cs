// CibaDuende.cs — ciba-approval for Duende.IdentityServer 7.4.5: the calls the API
// (common/CibaApprovalApi.cs, ICibaDuende) makes to Duende's CIBA interaction service, request store and
// IEventService, with 7.x's signatures. 7.x takes no CancellationToken on any of them, so the token
// ICibaDuende passes is not used. Read in Duende's source at tag is-7.4.5 (see ../README.md); make test
// checks these calls against ../duende-members.toml.

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
    public Task<IEnumerable<BackchannelUserLoginRequest>> GetPendingAsync(CancellationToken ct) =>
        interaction.GetPendingLoginRequestsForCurrentUserAsync();

    public Task<BackchannelUserLoginRequest?> GetLoginRequestAsync(string internalId, CancellationToken ct) =>
        interaction.GetLoginRequestByInternalIdAsync(internalId);

    public Task<BackChannelAuthenticationRequest?> GetStoredAsync(string internalId, CancellationToken ct) =>
        store.GetByInternalIdAsync(internalId);

    public Task<IEnumerable<BackChannelAuthenticationRequest>> GetStoredForUserAsync(string subjectId, CancellationToken ct) =>
        store.GetLoginsForUserAsync(subjectId);

    public Task CompleteAsync(CompleteBackchannelLoginRequest completion, CancellationToken ct) =>
        interaction.CompleteLoginRequestAsync(completion);

    public Task RaiseEventAsync(Event evt, CancellationToken ct) => events.RaiseAsync(evt);
}
