// CibaNotificationService.cs — ciba-approval for Duende.IdentityServer 7.4.5.
// Duende calls this once per accepted backchannel request (BackchannelAuthenticationResponseGenerator),
// after storing it. 7.x signature: Task SendLoginRequestAsync(BackchannelUserLoginRequest request) —
// no CancellationToken (8.0 adds one).
// Register with .AddBackchannelAuthenticationUserNotificationService<CibaNotificationService>() on the
// builder AddIdentityServer() returns (Program.snippet.cs).

using Duende.IdentityServer.Models;
using Duende.IdentityServer.Services;
using Microsoft.Extensions.Options;

namespace CibaApproval;

public sealed class CibaNotificationService(
    IOptions<CibaApprovalOptions> options,
    ILogger<CibaNotificationService> logger) : IBackchannelAuthenticationUserNotificationService
{
    public Task SendLoginRequestAsync(BackchannelUserLoginRequest request)
    {
        // https://<PublicOrigin>/ciba/requests/{InternalId}: the page opens that request, and after a
        // sign-in comes back to it. The link alone grants nothing: the API answers only the user's session.
        var link = options.Value.RequestLink(request.InternalId);
        var subject = request.Subject?.FindFirst("sub")?.Value;

        // Replace this with your channel (push, e-mail, SMS) to the user `subject`. Show the binding
        // message in the notification too, so the user can compare it with the other device.
        logger.LogInformation(
            "CIBA sign-in request from {ClientId} for {Subject}; binding message {BindingMessage}; open {Link}",
            request.Client?.ClientId, subject, request.BindingMessage, link);
        return Task.CompletedTask;
    }
}
