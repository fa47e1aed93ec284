// CibaNotificationService.cs — ciba-approval for Duende.IdentityServer 8.0.0: the interface method with
// 8.0's signature, Task SendLoginRequestAsync(BackchannelUserLoginRequest request, Ct ct), Ct being
// Duende's global alias for System.Threading.CancellationToken (7.x has no token). The channel is
// common/CibaNotificationService.Channel.cs.

using Duende.IdentityServer.Models;
using Duende.IdentityServer.Services;

namespace CibaApproval;

internal sealed partial class CibaNotificationService : IBackchannelAuthenticationUserNotificationService
{
    public Task SendLoginRequestAsync(BackchannelUserLoginRequest request, CancellationToken ct) =>
        NotifyAsync(request, ct);
}
