// CibaNotificationService.cs — ciba-approval for Duende.IdentityServer 7.4.5: the interface method with
// 7.x's signature, Task SendLoginRequestAsync(BackchannelUserLoginRequest request) — no CancellationToken
// (8.0 adds one). The channel is common/CibaNotificationService.Channel.cs.

using Duende.IdentityServer.Models;
using Duende.IdentityServer.Services;

namespace CibaApproval;

internal sealed partial class CibaNotificationService : IBackchannelAuthenticationUserNotificationService
{
    public Task SendLoginRequestAsync(BackchannelUserLoginRequest request) =>
        NotifyAsync(request, CancellationToken.None);
}
