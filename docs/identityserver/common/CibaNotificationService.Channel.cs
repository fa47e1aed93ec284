// CibaNotificationService.Channel.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file
// for both: copy it with the files of v7/ or v8/).
// The notification service's channel. Duende calls the service once per accepted backchannel request
// (BackchannelAuthenticationResponseGenerator), after storing it; the interface method, with the
// version's exact signature, is in v7/ or v8/CibaNotificationService.cs and hands the request to
// NotifyAsync below. Register with .AddBackchannelAuthenticationUserNotificationService<CibaNotificationService>()
// on the builder AddIdentityServer() returns (Program.snippet.cs).

using Duende.IdentityServer.Models;
using Microsoft.Extensions.Options;

namespace CibaApproval;

public sealed partial class CibaNotificationService(
    IOptions<CibaApprovalOptions> options,
    ILogger<CibaNotificationService> logger)
{
    private Task NotifyAsync(BackchannelUserLoginRequest request, CancellationToken ct)
    {
        // https://<PublicOrigin>/ciba/requests/{InternalId}: the page opens that request, and after a
        // sign-in comes back to it. The link alone grants nothing: the API answers only the user's session.
        var link = options.Value.RequestLink(request.InternalId);
        var subject = request.Subject?.FindFirst("sub")?.Value;

        // Replace this with your channel (push, e-mail, SMS) to the user `subject`, passing it `ct`. Show
        // the binding message in the notification too, so the user can compare it with the other device.
        logger.LogInformation(
            "CIBA sign-in request from {ClientId} for {Subject}; binding message {BindingMessage}; open {Link}",
            request.Client?.ClientId, subject, request.BindingMessage, link);
        return Task.CompletedTask;
    }
}
