// CibaPush.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for both: copy it with
// the files of v7/ or v8/).
//
// Web Push (issue 15): the page subscribes the browser (CibaApprovalApi.Push.cs), and the host pushes every
// new CIBA request to the user's subscriptions (CibaNotificationService.Channel.cs), then a "closed" message
// when the request is decided (CibaApprovalApi.CompleteAsync) or expires (CibaPushWorker below), so the
// notification goes away on every device. Messages are encrypted with RFC 8291 (aes128gcm) and signed with
// RFC 8292 (VAPID) by the NuGet package Lib.Net.Http.WebPush (pinned in CibaApproval.csproj); this file
// never does the cryptography itself.
//
// Why the network rules: the endpoint is a URL the browser (that is, anyone with a session) hands the host,
// and the host then POSTs to it. Without rules that is server-side request forgery into the host's own
// network (169.254.169.254, an admin port on 10.x). So: https only (a switch allows http to loopback in
// Development), no IP literal in loopback/private/link-local/unique-local ranges at subscribe time, every
// resolved address checked again at connect time (DNS may point a public-looking name anywhere), no
// redirects, the push service's answer read only up to a few KB, bounded time and retries, and all of it in
// the background: a slow or dead push service never slows /connect/ciba or a decision.
//
// Nothing here uses a Duende member: the request's data comes in as plain values.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
// Aliases, not `using Lib.Net.Http.WebPush;`: its PushSubscription and PushMessage would clash with the
// contract's names.
using WebPushClient = Lib.Net.Http.WebPush.PushServiceClient;
using WebPushClientException = Lib.Net.Http.WebPush.PushServiceClientException;
using WebPushKey = Lib.Net.Http.WebPush.PushEncryptionKeyName;
using WebPushMessage = Lib.Net.Http.WebPush.PushMessage;
using WebPushSubscription = Lib.Net.Http.WebPush.PushSubscription;
using WebPushUrgency = Lib.Net.Http.WebPush.PushMessageUrgency;
using VapidAuthentication = Lib.Net.Http.WebPush.Authentication.VapidAuthentication;

namespace CibaApproval;

/// <summary>The "CibaApproval:Push" configuration section. Push is off while the key pair is empty.</summary>
public sealed class CibaPushOptions
{
    public const string Section = CibaApprovalOptions.Section + ":Push";

    /// <summary>The VAPID public key: an uncompressed P-256 point (65 bytes), base64url without padding.</summary>
    public string VapidPublicKey { get; set; } = "";

    /// <summary>The VAPID private key (32 bytes), base64url. Keep it out of source control (user-secrets, a vault).</summary>
    public string VapidPrivateKey { get; set; } = "";

    /// <summary>RFC 8292 "sub": a mailto: or https: contact for push services. Empty: PublicOrigin, if https.</summary>
    public string VapidSubject { get; set; } = "";

    /// <summary>
    /// Development only (the host refuses to start with it elsewhere): accept http endpoints on
    /// 127.0.0.1, ::1 and localhost, and connect to loopback addresses — for a local test push service.
    /// </summary>
    public bool AllowLoopbackHttp { get; set; }

    /// <summary>Subscriptions kept per user; a new one beyond this drops the user's oldest (the contract says 5).</summary>
    public int MaxSubscriptionsPerUser { get; set; } = 5;

    public bool Enabled => VapidPublicKey.Length > 0 || VapidPrivateKey.Length > 0;
}

/// <summary>One browser subscription of one user, as stored.</summary>
public sealed record CibaPushSubscription(
    string Subject,
    string Endpoint,
    string P256dh,
    string Auth,
    DateTime CreatedAtUtc,
    DateTime? ExpiresAtUtc);

/// <summary>
/// Where subscriptions live. Endpoints are unique: a push service issues one per browser subscription.
/// A real host keeps them in its database (see InMemoryCibaPushSubscriptionStore for the table).
/// </summary>
public interface ICibaPushSubscriptionStore
{
    /// <summary>
    /// Stores the subscription for its Subject. The same endpoint replaces the stored one, also when another
    /// user stored it before (a shared browser: the last sign-in owns it). Beyond max per user, the user's
    /// oldest go.
    /// </summary>
    Task SaveAsync(CibaPushSubscription subscription, int maxPerUser, CancellationToken ct);

    /// <summary>Forgets this user's subscription with this endpoint; another user's stays.</summary>
    Task RemoveAsync(string subject, string endpoint, CancellationToken ct);

    /// <summary>The user's subscriptions that have not expired.</summary>
    Task<IReadOnlyList<CibaPushSubscription>> ListAsync(string subject, CancellationToken ct);

    /// <summary>The push service answered 404 or 410: the subscription is gone for good.</summary>
    Task RemoveGoneAsync(string endpoint, CancellationToken ct);
}

/// <summary>
/// Process memory: right for ONE host instance, and subscriptions are lost on restart (users then get no
/// push until their page subscribes again). Chosen over an EF Core store because the guide cannot be
/// compiled here and a DbContext would also need a migration in your host; the decision record and the code
/// check store make the same choice. In a database:
///   CREATE TABLE ciba_push_subscriptions (
///     endpoint varchar(1024) PRIMARY KEY, subject varchar(200) NOT NULL,
///     p256dh varchar(100) NOT NULL, auth varchar(40) NOT NULL,
///     created_at timestamp NOT NULL, expires_at timestamp NULL);
///   CREATE INDEX ix_ciba_push_subject ON ciba_push_subscriptions (subject, created_at);
/// SaveAsync = in one transaction, an upsert on endpoint, then delete the subject's rows except the newest max.
/// </summary>
public sealed class InMemoryCibaPushSubscriptionStore(TimeProvider time) : ICibaPushSubscriptionStore
{
    private readonly Dictionary<string, CibaPushSubscription> _byEndpoint = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    public Task SaveAsync(CibaPushSubscription subscription, int maxPerUser, CancellationToken ct)
    {
        lock (_lock)
        {
            _byEndpoint[subscription.Endpoint] = subscription;
            var surplus = _byEndpoint.Values
                .Where(s => s.Subject == subscription.Subject)
                .OrderByDescending(s => s.CreatedAtUtc)
                .Skip(Math.Max(1, maxPerUser))
                .ToList();
            foreach (var old in surplus)
            {
                _byEndpoint.Remove(old.Endpoint);
            }
        }
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string subject, string endpoint, CancellationToken ct)
    {
        lock (_lock)
        {
            if (_byEndpoint.TryGetValue(endpoint, out var stored) && stored.Subject == subject)
            {
                _byEndpoint.Remove(endpoint);
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<CibaPushSubscription>> ListAsync(string subject, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            IReadOnlyList<CibaPushSubscription> list = _byEndpoint.Values
                .Where(s => s.Subject == subject && (s.ExpiresAtUtc is null || s.ExpiresAtUtc > now))
                .ToList();
            return Task.FromResult(list);
        }
    }

    public Task RemoveGoneAsync(string endpoint, CancellationToken ct)
    {
        lock (_lock)
        {
            _byEndpoint.Remove(endpoint);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// The rules for push endpoints, at subscribe time (a 400) and at connect time (no connection).
/// </summary>
public static class CibaPushEndpoints
{
    public const int MaxEndpointLength = 1024; // as contract/openapi.json says

    /// <summary>null when the endpoint may be stored; otherwise why not, for the 400's detail.</summary>
    public static string? Check(string? endpoint, bool allowLoopbackHttp)
    {
        if (string.IsNullOrEmpty(endpoint)) return "endpoint is required.";
        if (endpoint.Length > MaxEndpointLength) return $"endpoint is longer than {MaxEndpointLength} characters.";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)) return "endpoint is not an absolute URL.";
        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0) return "endpoint must not carry user info or a fragment.";
        var loopback = IsLoopbackHost(uri);
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && allowLoopbackHttp && loopback))
        {
            return "endpoint must be an https URL.";
        }
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal)
            && !IsAllowed(literal, allowLoopbackHttp))
        {
            return "endpoint points at a private, loopback or link-local address.";
        }
        return null;
    }

    /// <summary>Whether the host may connect to this address: public unicast, or loopback with the switch on.</summary>
    public static bool IsAllowed(IPAddress address, bool allowLoopback) =>
        IsPublic(address) || (allowLoopback && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    /// <summary>Public unicast: not loopback, private, shared (CGNAT), link-local, unique-local, documentation, multicast or reserved.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !(b[0] is 0 or 10 or 127 || b[0] >= 224
                || (b[0] == 100 && b[1] is >= 64 and < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
        {
            return false;
        }
        // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d: the first 12 bytes are zero.
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return false;
        // 64:ff9b::/96 (NAT64) reaches the IPv4 address in its last 4 bytes.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return IsPublic(new IPAddress(b.AsSpan(12, 4)));
        // 2001:db8::/32 is for documentation.
        return !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);
    }

    private static bool IsLoopbackHost(Uri uri) =>
        string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// The connect step of the push HttpClient: resolves the host itself and refuses to connect when any
    /// address is not allowed — checked on the addresses actually connected to, so DNS cannot swap them.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowLoopback, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0 || addresses.Any(a => !IsAllowed(a, allowLoopback)))
        {
            throw new CibaPushRefusedException($"{host} resolves to an address the host does not push to.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>An endpoint refused by the network rules: logged, never retried.</summary>
public sealed class CibaPushRefusedException(string message) : Exception(message);

/// <summary>Checks a posted subscription and turns it into what the store keeps.</summary>
public static class CibaPushSubscriptions
{
    /// <summary>(the subscription, null) or (null, why not) for the 400's detail.</summary>
    public static (CibaPushSubscription? Subscription, string? Error) Parse(
        BrowserPushSubscription? body, string subject, DateTime nowUtc, bool allowLoopbackHttp)
    {
        if (body is null) return (null, "The body must be a PushSubscription.");
        if (CibaPushEndpoints.Check(body.Endpoint, allowLoopbackHttp) is { } endpointError) return (null, endpointError);
        if (body.Keys?.P256dh is not { } p256dh || body.Keys.Auth is not { } auth) return (null, "keys.p256dh and keys.auth are required.");
        if (Base64Url(p256dh) is not { Length: 65 } point || point[0] != 0x04 || !OnCurve(point))
        {
            return (null, "keys.p256dh must be an uncompressed P-256 point (65 bytes, base64url).");
        }
        if (Base64Url(auth) is not { Length: 16 }) return (null, "keys.auth must be 16 bytes, base64url.");
        DateTime? expires = null;
        if (body.ExpirationTime is { } ms)
        {
            if (!double.IsFinite(ms) || ms <= 0 || ms > 253402300799999) return (null, "expirationTime is not a time.");
            expires = DateTime.UnixEpoch.AddMilliseconds(ms);
            if (expires <= nowUtc) return (null, "The subscription has expired already.");
        }
        return (new CibaPushSubscription(subject, body.Endpoint!, p256dh, auth, nowUtc, expires), null);
    }

    private static byte[]? Base64Url(string value)
    {
        try
        {
            return value.Length <= 200 ? WebEncoders.Base64UrlDecode(value) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // A key that is not on the curve would only fail later, in the background, for every push.
    private static bool OnCurve(byte[] point)
    {
        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33], Y = point[33..] },
            });
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

/// <summary>
/// Queues pushes and remembers which requests were pushed, so the worker can close them at expiry.
/// Singleton. Enqueuing never waits: a full queue drops the push (and logs it) rather than slow the caller.
/// </summary>
public sealed class CibaPushQueue(IOptions<CibaPushOptions> options, ILogger<CibaPushQueue> logger)
{
    internal readonly record struct Job(CibaPushSubscription Subscription, byte[] Payload, string Topic, int TimeToLive, DateTime DeadlineUtc);

    internal readonly record struct Open(string Subject, DateTime ExpiresAtUtc);

    private readonly Channel<Job> _jobs = Channel.CreateBounded<Job>(
        new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = false });

    internal ChannelReader<Job> Jobs => _jobs.Reader;

    /// <summary>internalId → (subject, expiry) of requests pushed and not yet closed.</summary>
    internal ConcurrentDictionary<string, Open> OpenRequests { get; } = new(StringComparer.Ordinal);

    public bool Enabled => options.Value.Enabled;

    /// <summary>A new request: to every subscription of its user, TTL = the time left.</summary>
    public void Request(IEnumerable<CibaPushSubscription> subscriptions, string subject, string internalId,
        string clientName, string? bindingMessage, DateTime expiresAtUtc, DateTime nowUtc)
    {
        var message = new PushRequestMessage("request", internalId, ConsentUrl(internalId), clientName, bindingMessage,
            expiresAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        OpenRequests[internalId] = new Open(subject, expiresAtUtc);
        var ttl = (int)Math.Clamp((expiresAtUtc - nowUtc).TotalSeconds, 0, int.MaxValue);
        Enqueue(subscriptions, JsonSerializer.SerializeToUtf8Bytes(message, CibaJson.Options), internalId, ttl, expiresAtUtc, nowUtc);
    }

    /// <summary>Decided or expired: to every subscription of the user, so each device closes the notification.</summary>
    public void Closed(IEnumerable<CibaPushSubscription> subscriptions, string internalId, DateTime nowUtc)
    {
        OpenRequests.TryRemove(internalId, out _);
        var message = new PushClosedMessage("closed", internalId, ConsentUrl(internalId));
        // A device that is offline for a minute no longer shows the request anyway (the worker drops
        // notifications past expiresAt), so the closed message need not wait longer.
        Enqueue(subscriptions, JsonSerializer.SerializeToUtf8Bytes(message, CibaJson.Options), internalId, 60, nowUtc.AddSeconds(60), nowUtc);
    }

    /// <summary>The contract's PushMessage::consent_url: the consent page of the request.</summary>
    public static string ConsentUrl(string internalId) =>
        $"{CibaApprovalOptions.SpaPath}/requests/{Uri.EscapeDataString(internalId)}";

    private void Enqueue(IEnumerable<CibaPushSubscription> subscriptions, byte[] payload, string internalId, int ttl,
        DateTime expiresAtUtc, DateTime nowUtc)
    {
        // RFC 8030 Topic (≤ 32 base64url characters): the push service replaces an undelivered "request" by
        // the "closed" of the same request, so a device that was offline gets only the latter.
        var topic = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.UTF8.GetBytes(internalId)), 0, 24);
        // Bounded time: retries stop at the request's expiry, and after 30 s in any case.
        var deadline = nowUtc.AddSeconds(30) < expiresAtUtc ? nowUtc.AddSeconds(30) : expiresAtUtc;
        foreach (var subscription in subscriptions)
        {
            if (!_jobs.Writer.TryWrite(new Job(subscription, payload, topic, ttl, deadline)))
            {
                logger.LogWarning("Web Push queue full: dropped a push for CIBA request {InternalId}", internalId);
            }
        }
    }
}

/// <summary>
/// Sends the queued pushes (a few at a time, each with a deadline and at most two retries, only on 429,
/// 5xx and network errors); deletes a subscription on 404/410; every 15 s queues "closed" for pushed
/// requests that expired. Registered as a hosted service by AddCibaApproval().
/// </summary>
public sealed class CibaPushWorker(
    CibaPushQueue queue,
    IOptions<CibaPushOptions> options,
    IOptions<CibaApprovalOptions> approvalOptions,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<CibaPushWorker> logger) : BackgroundService
{
    private const int MaxInFlight = 8;
    private const int MaxAttempts = 3;
    private const int MaxResponseBytes = 4 * 1024;
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        using var http = CreateHttpClient(options.Value.AllowLoopbackHttp);
        // The library's own 429 handling waits as long as Retry-After says: off, the loop below is bounded.
        var client = new WebPushClient(http) { AutoRetryAfter = false };
        var sends = Parallel.ForEachAsync(queue.Jobs.ReadAllAsync(stoppingToken),
            new ParallelOptions { MaxDegreeOfParallelism = MaxInFlight, CancellationToken = stoppingToken },
            (job, ct) => new ValueTask(SendSafelyAsync(client, job, ct)));
        var sweeps = SweepExpiredAsync(stoppingToken);
        try
        {
            await Task.WhenAll(sends, sweeps);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// No redirects (a push service never needs one; following it would leave the checked host), no proxy
    /// (the connect check must see the push service's address), the connect check, a timeout per attempt,
    /// and the answer cut at a few KB (the library reads an error answer whole).
    /// </summary>
    public static HttpClient CreateHttpClient(bool allowLoopback)
    {
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // picks up DNS changes, each checked again
            MaxResponseHeadersLength = 16, // KB
            ConnectCallback = (context, ct) => CibaPushEndpoints.ConnectAsync(context, allowLoopback, ct),
        };
        return new HttpClient(new CappedResponseHandler(MaxResponseBytes) { InnerHandler = sockets })
        {
            Timeout = AttemptTimeout,
            MaxResponseContentBufferSize = MaxResponseBytes,
        };
    }

    // One push must never stop the worker: anything unexpected is logged, and the next job goes on.
    private async Task SendSafelyAsync(WebPushClient client, CibaPushQueue.Job job, CancellationToken stoppingToken)
    {
        try
        {
            await SendAsync(client, job, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError(ex, "Web Push failed unexpectedly");
        }
    }

    private async Task SendAsync(WebPushClient client, CibaPushQueue.Job job, CancellationToken stoppingToken)
    {
        var push = options.Value;
        var endpoint = job.Subscription.Endpoint;
        var host = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri.Host : "?";
        // Checked again at send time: the rules may have been tightened since the subscription was stored.
        if (CibaPushEndpoints.Check(endpoint, push.AllowLoopbackHttp) is { } refused)
        {
            logger.LogWarning("Web Push to {Host} refused: {Reason}", host, refused);
            return;
        }
        var subscription = new WebPushSubscription { Endpoint = endpoint };
        subscription.SetKey(WebPushKey.P256DH, job.Subscription.P256dh);
        subscription.SetKey(WebPushKey.Auth, job.Subscription.Auth);
        for (var attempt = 1; ; attempt++)
        {
            var left = job.DeadlineUtc - time.GetUtcNow().UtcDateTime;
            if (left <= TimeSpan.Zero)
            {
                logger.LogInformation("Web Push to {Host} given up: deadline passed after {Attempts} attempt(s)", host, attempt - 1);
                return;
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            deadline.CancelAfter(left);
            TimeSpan? retryAfter = null;
            try
            {
                // A new VapidAuthentication per attempt: it holds an ECDsa key, which is not documented
                // as safe for concurrent use. It signs a JWT with aud = the endpoint's origin, exp ≤ 12 h.
                using var vapid = new VapidAuthentication(push.VapidPublicKey, push.VapidPrivateKey) { Subject = Subject() };
                var message = new WebPushMessage(new ByteArrayContent(job.Payload))
                {
                    TimeToLive = job.TimeToLive,
                    Urgency = WebPushUrgency.High,
                    Topic = job.Topic,
                };
                await client.RequestPushMessageDeliveryAsync(subscription, message, vapid, deadline.Token);
                logger.LogInformation("Web Push to {Host} delivered", host);
                return;
            }
            catch (WebPushClientException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ICibaPushSubscriptionStore>()
                    .RemoveGoneAsync(endpoint, CancellationToken.None);
                logger.LogInformation("Web Push to {Host}: subscription gone ({Status}), deleted", host, (int)ex.StatusCode);
                return;
            }
            catch (WebPushClientException ex) when ((int)ex.StatusCode == 429 || (int)ex.StatusCode >= 500)
            {
                logger.LogInformation("Web Push to {Host}: {Status} on attempt {Attempt}", host, (int)ex.StatusCode, attempt);
                retryAfter = ex.Headers?.RetryAfter?.Delta;
            }
            catch (WebPushClientException ex)
            {
                // 400 (bad payload), 401/403 (VAPID key not the one the browser subscribed with), 413: retrying won't help.
                logger.LogWarning("Web Push to {Host} refused by the push service: {Status}", host, (int)ex.StatusCode);
                return;
            }
            catch (Exception ex) when (Unwrap(ex) is CibaPushRefusedException refusedAtConnect)
            {
                logger.LogWarning("Web Push to {Host} refused: {Reason}", host, refusedAtConnect.Message);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException
                                       && !stoppingToken.IsCancellationRequested)
            {
                logger.LogInformation("Web Push to {Host}: {Error} on attempt {Attempt}", host, ex.GetType().Name, attempt);
            }
            if (attempt >= MaxAttempts) return;
            // Backoff 1 s, then 4 s, or what Retry-After asks — unless that runs past the deadline.
            var wait = retryAfter ?? TimeSpan.FromSeconds(attempt == 1 ? 1 : 4);
            if (wait >= job.DeadlineUtc - time.GetUtcNow().UtcDateTime)
            {
                logger.LogInformation("Web Push to {Host} given up: the next attempt would be past the deadline", host);
                return;
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // RFC 8292 allows only mailto: and https: (the library throws for anything else): an http origin gives none.
    private string? Subject()
    {
        if (options.Value.VapidSubject.Length > 0) return options.Value.VapidSubject;
        CibaApprovalOptions.TryNormalizeOrigin(approvalOptions.Value.PublicOrigin, out var origin);
        return origin.StartsWith("https://", StringComparison.Ordinal) ? origin : null;
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex.InnerException is { } inner && ex is not CibaPushRefusedException) ex = inner;
        return ex;
    }

    // Requests pushed but never decided here: "closed" once their time is up.
    private async Task SweepExpiredAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow().UtcDateTime;
            foreach (var (internalId, open) in queue.OpenRequests)
            {
                if (open.ExpiresAtUtc > now) continue;
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var subscriptions = await scope.ServiceProvider.GetRequiredService<ICibaPushSubscriptionStore>()
                        .ListAsync(open.Subject, stoppingToken);
                    queue.Closed(subscriptions, internalId, now);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    queue.OpenRequests.TryRemove(internalId, out _);
                    logger.LogWarning(ex, "Web Push: could not close expired CIBA request {InternalId}", internalId);
                }
            }
        }
    }

    /// <summary>Replaces the push service's answer with at most `limit` bytes of it (none for a success).</summary>
    private sealed class CappedResponseHandler(int limit) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            var body = new byte[limit];
            var length = 0;
            if (!response.IsSuccessStatusCode)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(ct);
                int read;
                while (length < limit && (read = await stream.ReadAsync(body.AsMemory(length), ct)) > 0)
                {
                    length += read;
                }
            }
            response.Content.Dispose(); // a longer answer is not read: the connection is dropped instead
            response.Content = new ByteArrayContent(body, 0, length);
            return response;
        }
    }
}

/// <summary>Checks the push settings at start-up, so a bad key fails the start, not every push.</summary>
public sealed class CibaPushOptionsValidation(IHostEnvironment environment) : IValidateOptions<CibaPushOptions>
{
    public ValidateOptionsResult Validate(string? name, CibaPushOptions push)
    {
        if (!push.Enabled) return ValidateOptionsResult.Success;
        if (push.AllowLoopbackHttp && !environment.IsDevelopment())
        {
            return ValidateOptionsResult.Fail("CibaApproval:Push:AllowLoopbackHttp is for Development only.");
        }
        if (push.MaxSubscriptionsPerUser < 1) return ValidateOptionsResult.Fail("CibaApproval:Push:MaxSubscriptionsPerUser must be at least 1.");
        if (push.VapidSubject.Length > 0 && !push.VapidSubject.StartsWith("mailto:", StringComparison.Ordinal)
            && !push.VapidSubject.StartsWith("https://", StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Fail("CibaApproval:Push:VapidSubject must be a mailto: or https: URI (RFC 8292).");
        }
        try
        {
            var q = WebEncoders.Base64UrlDecode(push.VapidPublicKey);
            var d = WebEncoders.Base64UrlDecode(push.VapidPrivateKey);
            if (q.Length != 65 || q[0] != 0x04 || d.Length != 32)
            {
                return ValidateOptionsResult.Fail("The VAPID keys must be a 65-byte uncompressed P-256 point and a 32-byte private key, base64url.");
            }
            // The pair must belong together: sign with the private key, verify with the public one.
            var point = new ECPoint { X = q[1..33], Y = q[33..] };
            using var signer = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = point, D = d });
            using var verifier = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = point });
            var probe = "ciba-approval VAPID key check"u8.ToArray();
            if (!verifier.VerifyData(probe, signer.SignData(probe, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256))
            {
                return ValidateOptionsResult.Fail("CibaApproval:Push:VapidPublicKey does not belong to VapidPrivateKey.");
            }
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            return ValidateOptionsResult.Fail($"The VAPID keys are not valid: {ex.Message}");
        }
        return ValidateOptionsResult.Success;
    }
}
