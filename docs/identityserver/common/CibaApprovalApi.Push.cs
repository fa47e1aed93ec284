// CibaApprovalApi.Push.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for both:
// copy it with the files of v7/ or v8/).
//
// The Web Push part of the JSON API (contract/openapi.json): the page asks for the host's VAPID public key,
// subscribes the browser with it (pushManager.subscribe), and posts the subscription here; the host then
// pushes each new CIBA request to it (CibaNotificationService.Channel.cs, CibaPush.cs). Same rules as the
// rest of the API (CibaApprovalApi.cs): session cookie, problem+json errors, no-store (UseCibaApproval),
// and the two changes need X-CSRF: 1 and the public Origin, exactly as POST /complete does. No Duende member
// is used here.

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CibaApproval;

public static partial class CibaApprovalApi
{
    private static void AddCibaPush(WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CibaPushOptions>()
            .Bind(builder.Configuration.GetSection(CibaPushOptions.Section))
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<CibaPushOptions>, CibaPushOptionsValidation>());
        builder.Services.TryAddSingleton<ICibaPushSubscriptionStore, InMemoryCibaPushSubscriptionStore>();
        builder.Services.TryAddSingleton<CibaPushQueue>();
        builder.Services.AddHostedService<CibaPushWorker>();
    }

    private static void MapCibaPush(WebApplication app)
    {
        app.MapGet(CibaApprovalOptions.ApiPath + "/push", GetPushSettings);
        app.MapPost(CibaApprovalOptions.ApiPath + "/push/subscriptions", SubscribeAsync);
        app.MapDelete(CibaApprovalOptions.ApiPath + "/push/subscriptions", UnsubscribeAsync);
    }

    // GET /api/ciba/push — the key the page passes to pushManager.subscribe as applicationServerKey.
    private static IResult GetPushSettings(HttpContext http)
    {
        if (SubjectOf(http.User) is null) return SignInRequired();
        var push = PushOptions(http);
        return push.Enabled ? Ok(new PushSettings(push.VapidPublicKey)) : PushOff();
    }

    // POST /api/ciba/push/subscriptions — PushSubscription.toJSON() → 201; the same endpoint replaces.
    private static async Task<IResult> SubscribeAsync(HttpContext http)
    {
        // 401, then 403, then 400, as POST /complete.
        if (SubjectOf(http.User) is not { } subject) return SignInRequired();
        if (!IsSameOriginDecision(http.Request, Options(http))) return CsrfRefused();
        var push = PushOptions(http);
        if (!push.Enabled) return PushOff();
        var (body, error) = await ReadJsonAsync<BrowserPushSubscription>(http.Request, "The body is not a PushSubscription.", http.RequestAborted);
        if (error is not null) return error;
        var (subscription, invalid) = CibaPushSubscriptions.Parse(body, subject, Now(http), push.AllowLoopbackHttp);
        if (subscription is null) return ProblemResult(400, "Invalid subscription", invalid);
        await http.RequestServices.GetRequiredService<ICibaPushSubscriptionStore>()
            .SaveAsync(subscription, push.MaxSubscriptionsPerUser, http.RequestAborted);
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    // DELETE /api/ciba/push/subscriptions — { endpoint } → 204; only the signed-in user's, unknown is no error.
    private static async Task<IResult> UnsubscribeAsync(HttpContext http)
    {
        if (SubjectOf(http.User) is not { } subject) return SignInRequired();
        if (!IsSameOriginDecision(http.Request, Options(http))) return CsrfRefused();
        var (body, error) = await ReadJsonAsync<PushUnsubscribe>(http.Request, "The body is not a PushUnsubscribe.", http.RequestAborted);
        if (error is not null) return error;
        if (string.IsNullOrEmpty(body?.Endpoint) || body.Endpoint.Length > CibaPushEndpoints.MaxEndpointLength)
        {
            return ProblemResult(400, "Invalid request", "endpoint is required.");
        }
        await http.RequestServices.GetRequiredService<ICibaPushSubscriptionStore>()
            .RemoveAsync(subject, body.Endpoint, http.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>After a decision Duende accepted: "closed" to the user's devices. Never fails the decision.</summary>
    private static async Task PushClosedAsync(HttpContext http, string subject, string internalId)
    {
        var queue = http.RequestServices.GetRequiredService<CibaPushQueue>();
        if (!queue.Enabled) return;
        try
        {
            var subscriptions = await http.RequestServices.GetRequiredService<ICibaPushSubscriptionStore>()
                .ListAsync(subject, CancellationToken.None);
            queue.Closed(subscriptions, internalId, Now(http));
        }
        catch (Exception ex)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CibaApproval")
                .LogWarning(ex, "Web Push: could not queue the close of CIBA request {InternalId}", internalId);
        }
    }

    private static CibaPushOptions PushOptions(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<CibaPushOptions>>().Value;

    private static IResult PushOff() =>
        ProblemResult(404, "Not found", "Web Push is not set up on this host.");

    private static IResult CsrfRefused() =>
        ProblemResult(403, "Forbidden", "The X-CSRF: 1 header is required and the request must come from this site.");
}
