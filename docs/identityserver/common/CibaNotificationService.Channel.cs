// CibaNotificationService.Channel.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file
// for both: copy it with the files of v7/ or v8/).
// The notification service's channel. Duende calls the service once per accepted backchannel request
// (BackchannelAuthenticationResponseGenerator), after storing it, and answers the client only when it
// returns; the interface method, with the version's exact signature, is in v7/ or v8/CibaNotificationService.cs
// and hands the request to NotifyAsync below. Register with
// .AddBackchannelAuthenticationUserNotificationService<CibaNotificationService>() on the builder
// AddIdentityServer() returns (Program.snippet.cs).
//
// The channel is Web Push (CibaPush.cs) to every subscription the user's pages stored through
// POST /api/ciba/push/subscriptions. NotifyAsync only reads the store and queues: the pushes go out in the
// background (CibaPushWorker), so a slow push service never delays the client's /connect/ciba answer.
// Add another channel (e-mail, SMS) here if users may have no subscribed browser.

using Duende.IdentityServer.Models;
using Microsoft.Extensions.Options;

namespace CibaApproval;

// internal: ICibaDuende is.
internal sealed partial class CibaNotificationService(
    IOptions<CibaApprovalOptions> options,
    ICibaDuende duende,
    ICibaPushSubscriptionStore subscriptions,
    CibaPushQueue push,
    TimeProvider time,
    ILogger<CibaNotificationService> logger)
{
    private async Task NotifyAsync(BackchannelUserLoginRequest request, CancellationToken ct)
    {
        // https://<PublicOrigin>/ciba/requests/{InternalId}: the page opens that request, and after a
        // sign-in comes back to it. The link alone grants nothing: the API answers only the user's session.
        var link = options.Value.RequestLink(request.InternalId);
        var subject = request.Subject?.FindFirst("sub")?.Value;
        logger.LogInformation("CIBA sign-in request from {ClientId} for {Subject}; open {Link}",
            request.Client?.ClientId, subject, link);
        if (!push.Enabled || subject is null || request.Client is null) return;
        try
        {
            await QueuePushAsync(request, subject, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The request itself stands: the user can still open the page. Only the push is lost.
            logger.LogWarning(ex, "Web Push: could not queue CIBA request {InternalId}", request.InternalId);
        }
    }

    private async Task QueuePushAsync(BackchannelUserLoginRequest request, string subject, CancellationToken ct)
    {
        // The stored request has what BackchannelUserLoginRequest lacks: CreationTime and Lifetime (the
        // notification's TTL and expiresAt). Duende stored it just before calling here.
        var stored = await duende.GetStoredAsync(request.InternalId, ct);
        if (stored is null) return;
        var expiresAt = CibaApprovalApi.Utc(stored.CreationTime).AddSeconds(stored.Lifetime);
        var targets = await subscriptions.ListAsync(subject, ct);
        if (targets.Count == 0) return;

        var client = request.Client;
        // With the code check on, the notification must not give the code away.
        var bindingMessage = CibaApprovalApi.VerifiesBindingMessage(client, stored, options.Value) ? null : stored.BindingMessage;
        push.Request(targets, subject, request.InternalId, client.ClientName ?? client.ClientId, bindingMessage,
            expiresAt, time.GetUtcNow().UtcDateTime);
    }
}
