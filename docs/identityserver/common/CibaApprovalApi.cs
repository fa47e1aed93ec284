// CibaApprovalApi.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/).
//
// The JSON API of contract/openapi.json over Duende's CIBA interaction service, plus the headers of the
// page under /ciba. Wiring: Program.snippet.cs. Not compiled on the machine that wrote it: every Duende
// member was read in Duende's source at tags is-7.4.5 and is-8.0.0 (see ../README.md), and make test
// checks the calls' arity against ../duende-members.toml.
//
// Duende's services (interaction service, request store, IEventService) differ between 7.x and 8.0 only
// in their signatures (8.0 takes a CancellationToken and returns IReadOnlyCollection), so this file
// reaches them only through ICibaDuende below, implemented with the version's exact calls by
// v7/CibaDuende.cs or v8/CibaDuende.cs. make test fails if code here calls one of them directly.
//
// Handlers take only HttpContext and resolve services themselves: no parameter is bound from the body,
// so minimal-API binding can never answer (400/415 without problem+json) before this code runs.

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Duende.IdentityServer;
using Duende.IdentityServer.Events;
using Duende.IdentityServer.Models;
using Duende.IdentityServer.Services; // CompleteBackchannelLoginRequest
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
// The template's Pages/Telemetry.cs (dotnet new duende-is names its namespace <YourProject>.Pages):
// the consent counter the template's Ciba consent page feeds. Point this alias at your project.
using Telemetry = IdentityServerTemplate.Pages.Telemetry;

namespace CibaApproval;

/// <summary>
/// The Duende calls the API makes, one signature for both versions: each method takes the token 8.0
/// requires (7.x has none and ignores it), and lists are IEnumerable (8.0's IReadOnlyCollection is one).
/// The names differ from Duende's on purpose: make test checks Duende's calls by member name.
/// </summary>
internal interface ICibaDuende
{
    /// <summary>Interaction service, GetPendingLoginRequestsForCurrentUserAsync: skips completed, not expired.</summary>
    Task<IEnumerable<BackchannelUserLoginRequest>> GetPendingAsync(CancellationToken ct);

    /// <summary>Interaction service, GetLoginRequestByInternalIdAsync: completed and expired requests too.</summary>
    Task<BackchannelUserLoginRequest?> GetLoginRequestAsync(string internalId, CancellationToken ct);

    /// <summary>Request store, GetByInternalIdAsync: no expiry check in the default store.</summary>
    Task<BackChannelAuthenticationRequest?> GetStoredAsync(string internalId, CancellationToken ct);

    /// <summary>Request store, GetLoginsForUserAsync: the subject's requests of every client.</summary>
    Task<IEnumerable<BackChannelAuthenticationRequest>> GetStoredForUserAsync(string subjectId, CancellationToken ct);

    /// <summary>Interaction service, CompleteLoginRequestAsync: InvalidOperationException if Duende refuses.</summary>
    Task CompleteAsync(CompleteBackchannelLoginRequest completion, CancellationToken ct);

    /// <summary>IEventService.RaiseAsync.</summary>
    Task RaiseEventAsync(Event evt, CancellationToken ct);
}

public static partial class CibaApprovalApi
{
    private const int MaxBodyBytes = 16 * 1024;

    /// <summary>Options, the decision record, the clock and the Duende calls. Call before builder.Build().</summary>
    public static WebApplicationBuilder AddCibaApproval(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CibaApprovalOptions>()
            .Bind(builder.Configuration.GetSection(CibaApprovalOptions.Section))
            .Validate(o => CibaApprovalOptions.TryNormalizeOrigin(o.PublicOrigin, out _),
                "CibaApproval:PublicOrigin must be the origin browsers use, e.g. https://id.example.com")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ICibaDecisionRecord, InMemoryCibaDecisionRecord>();
        builder.Services.TryAddSingleton<ICibaCodeCheckStore, InMemoryCibaCodeCheckStore>();
        // Transient, as Duende registers the services it wraps (the interaction service reads the session).
        builder.Services.TryAddTransient<ICibaDuende, CibaDuende>();
        AddCibaPush(builder); // CibaApprovalApi.Push.cs
        // The API's JSON compressed (used under /api/ciba only, UseCibaApproval): it shrinks ~20×
        // (ciba-idp's list of 40 requests: 27.8 KB, 1.3 KB brotli), seconds on a phone's connection
        // for a long list. ASP.NET Core leaves HTTPS uncompressed by default for BREACH; these bodies
        // hold no secret beside text a client chose.
        builder.Services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.MimeTypes = ["application/json", "application/problem+json"];
        });
        return builder;
    }

    /// <summary>
    /// Middleware: under /api/ciba every response is no-store and every error problem+json (including
    /// routing's 404/405 and exceptions); under /ciba the page's own Content-Security-Policy replaces
    /// whatever the host set. Call before UseStaticFiles (so the SPA's files get the headers too).
    /// </summary>
    public static WebApplication UseCibaApproval(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<CibaApprovalOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CibaApproval");
        var indexHtml = ReadIndexHtml(app, logger);
        var pageCsp = options.ContentSecurityPolicy(indexHtml);

        app.UseWhen(http => http.Request.Path.StartsWithSegments(CibaApprovalOptions.ApiPath),
            api => api.UseResponseCompression());
        app.Use(async (HttpContext http, RequestDelegate next) =>
        {
            if (http.Request.Path.StartsWithSegments(CibaApprovalOptions.ApiPath))
            {
                http.Response.OnStarting(() =>
                {
                    http.Response.Headers.CacheControl = "no-store";
                    http.Response.Headers["X-Content-Type-Options"] = "nosniff";
                    return Task.CompletedTask;
                });
                try
                {
                    await next(http);
                }
                catch (Exception ex) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
                {
                    logger.LogError(ex, "CIBA approval API failed for {Path}", http.Request.Path);
                    http.Response.Clear();
                    await WriteProblem(http, 500, "Server error", "The request could not be completed. Try again.");
                    return;
                }
                // A status without a body (routing's 404 and 405, a framework 400): make it a problem too.
                if (!http.Response.HasStarted && http.Response.StatusCode >= 400)
                {
                    var status = http.Response.StatusCode;
                    await WriteProblem(http, status, ReasonPhrases.GetReasonPhrase(status), null);
                }
                return;
            }
            if (http.Request.Path.StartsWithSegments(CibaApprovalOptions.SpaPath))
            {
                http.Response.OnStarting(() =>
                {
                    // Replaces (not appends to) the policy the template's HostingExtensions appended:
                    // two policies would both apply, and the template's blocks logos from other origins.
                    http.Response.Headers["Content-Security-Policy"] = pageCsp;
                    http.Response.Headers["X-Content-Type-Options"] = "nosniff";
                    http.Response.Headers["Referrer-Policy"] = "no-referrer";
                    return Task.CompletedTask;
                });
            }
            await next(http);
        });
        return app;
    }

    /// <summary>The endpoints and the page's routes. Call after UseAuthorization() / MapRazorPages().</summary>
    public static WebApplication MapCibaApproval(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CibaApproval");
        var indexHtml = ReadIndexHtml(app, logger);

        // The page: /ciba, /ciba/ and every client-side route (/ciba/requests/{id}) — the catch-all also
        // matches an empty rest, and `nonfile` passes a missing value. Paths whose last segment looks like
        // a file are UseStaticFiles' (wwwroot/ciba/), so a missing .wasm is a 404, not the page.
        IResult Page(HttpContext http)
        {
            http.Response.Headers.CacheControl = "no-cache";
            return indexHtml is null
                ? Results.NotFound()
                : Results.Content(indexHtml, "text/html; charset=utf-8");
        }
        app.MapGet(CibaApprovalOptions.SpaPath + "/{**path:nonfile}", Page);

        // Needs no session: a framed page must be able to tell its portal that the user has to sign in.
        app.MapGet(CibaApprovalOptions.ApiPath + "/embedding", (HttpContext http) =>
            Ok(new EmbeddingSettings(Options(http).EmbedOrigins())));

        app.MapGet(CibaApprovalOptions.ApiPath + "/session", (HttpContext http) =>
            SubjectOf(http.User) is not { } subject
                ? SignInRequired()
                : Ok(new SessionInfo(subject, http.User.FindFirst("name")?.Value ?? subject)));

        app.MapGet(CibaApprovalOptions.ApiPath + "/requests", ListAsync);
        app.MapGet(CibaApprovalOptions.ApiPath + "/requests/{internalId}", GetAsync);
        app.MapPost(CibaApprovalOptions.ApiPath + "/complete", CompleteAsync);
        MapCibaPush(app); // CibaApprovalApi.Push.cs

        // Anything else under /api/ciba: a problem, not the host's fallback page.
        app.MapFallback(CibaApprovalOptions.ApiPath + "/{**rest}", () =>
            ProblemResult(404, "Not found", "There is no such endpoint."));
        return app;
    }

    // GET /api/ciba/requests — the user's open requests, newest first, with an ETag.
    private static async Task<IResult> ListAsync(HttpContext http)
    {
        if (SubjectOf(http.User) is not { } subject) return SignInRequired();
        var duende = http.RequestServices.GetRequiredService<ICibaDuende>();
        var now = Now(http);
        var ct = http.RequestAborted;

        // Pending requests (Duende drops completed ones, not expired ones) joined with the stored
        // requests, which carry what BackchannelUserLoginRequest lacks: CreationTime, Lifetime, Tenant, IdP.
        var pending = await duende.GetPendingAsync(ct);
        var stored = new Dictionary<string, BackChannelAuthenticationRequest>(StringComparer.Ordinal);
        foreach (var item in await duende.GetStoredForUserAsync(subject, ct))
        {
            stored.TryAdd(item.InternalId, item);
        }
        var open = new List<(DateTime Created, PendingRequest Dto)>();
        foreach (var request in pending)
        {
            if (stored.TryGetValue(request.InternalId, out var item) && IsOpenFor(item, subject, now))
            {
                var check = await CodeCheckAsync(http, request, item);
                open.Add((Utc(item.CreationTime), Map(request, item, Options(http), check)));
            }
        }
        var list = open
            .OrderByDescending(x => x.Created)
            .ThenBy(x => x.Dto.InternalId, StringComparer.Ordinal)
            .Select(x => x.Dto)
            .ToArray();

        var json = JsonSerializer.SerializeToUtf8Bytes(list, CibaJson.Options);
        // The ETag hashes the JSON, so scope names localised by Accept-Language (the page sends its
        // language) give each language its own ETag; Vary keeps caches from mixing them.
        var etag = $"\"{Convert.ToHexString(SHA256.HashData(json))[..32]}\"";
        http.Response.Headers.ETag = etag;
        http.Response.Headers.Vary = "Accept-Language";
        if (IfNoneMatch(http.Request, etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(json, "application/json");
    }

    // GET /api/ciba/requests/{internalId} — one answer (404) for unknown, someone else's, expired, decided.
    private static async Task<IResult> GetAsync(HttpContext http, string internalId)
    {
        if (SubjectOf(http.User) is not { } subject) return SignInRequired();
        var duende = http.RequestServices.GetRequiredService<ICibaDuende>();
        var decisions = http.RequestServices.GetRequiredService<ICibaDecisionRecord>();
        var ct = http.RequestAborted;

        if (await decisions.FindAsync(internalId, ct) is not null) return NotFound();
        var stored = await duende.GetStoredAsync(internalId, ct);
        if (stored is null || !IsOpenFor(stored, subject, Now(http))) return NotFound();
        var request = await duende.GetLoginRequestAsync(internalId, ct);
        if (request is null) return NotFound(); // e.g. the client was disabled meanwhile
        http.Response.Headers.Vary = "Accept-Language";
        return Ok(Map(request, stored, Options(http), await CodeCheckAsync(http, request, stored)));
    }

    // POST /api/ciba/complete — approve (non-empty scopesValuesConsented) or deny (null or []).
    private static async Task<IResult> CompleteAsync(HttpContext http)
    {
        // 401, then 403, then 400: the order ciba-idp answers in.
        if (SubjectOf(http.User) is not { } subject) return SignInRequired();
        var options = Options(http);
        if (!IsSameOriginDecision(http.Request, options))
        {
            return ProblemResult(403, "Forbidden", "The X-CSRF: 1 header is required and the request must come from this site.");
        }
        var (body, bodyError) = await ReadCompleteRequestAsync(http.Request, http.RequestAborted);
        if (bodyError is not null) return bodyError;
        var internalId = body!.InternalId!;
        var description = string.IsNullOrWhiteSpace(body.Description) ? null : body.Description.Trim();

        var duende = http.RequestServices.GetRequiredService<ICibaDuende>();
        var decisions = http.RequestServices.GetRequiredService<ICibaDecisionRecord>();
        var ct = http.RequestAborted;

        // Decided here before (also after the client polled and Duende deleted the request): 409 for the
        // user who decided, the same 404 as for an unknown request for anyone else.
        if (await decisions.FindAsync(internalId, ct) is { } earlier)
        {
            return earlier.Subject == subject ? AlreadyDecided(earlier.Outcome) : NotFound();
        }
        var stored = await duende.GetStoredAsync(internalId, ct);
        if (stored is null || SubjectOf(stored.Subject) != subject) return NotFound();
        if (stored.IsComplete)
        {
            // Completed but not recorded here (another UI, or this host restarted): Duende's own answer.
            return AlreadyDecided(stored.AuthorizedScopes?.Any() == true ? CibaJson.Approved : CibaJson.Denied);
        }
        if (!IsOpenFor(stored, subject, Now(http))) return NotFound();
        var request = await duende.GetLoginRequestAsync(internalId, ct);
        if (request is null) return NotFound();

        // Checked here, before Duende: CompleteLoginRequestAsync throws InvalidOperationException for an
        // unrequested scope, and accepts a grant without a required scope or with any description.
        var check = await CodeCheckAsync(http, request, stored);
        var dto = Map(request, stored, options, check);
        var granted = body.ScopesValuesConsented?.Distinct(StringComparer.Ordinal).Cast<string>().ToArray() ?? [];
        // The code check, enforced: an approval needs the person's pick, and the pick must be the binding
        // message; a wrong pick locks the request, so guessing again is no use. A denial needs no pick.
        if (check is not null && granted.Length > 0)
        {
            if (check.Locked) return WrongCode();
            if (body.BindingMessage is null)
            {
                return CodeProblem(CibaJson.CodeRequiredProblem,
                    "Pick the code the other device shows (bindingMessage) to approve.");
            }
            if (!string.Equals(body.BindingMessage, stored.BindingMessage, StringComparison.Ordinal))
            {
                await http.RequestServices.GetRequiredService<ICibaCodeCheckStore>().LockAsync(internalId, CancellationToken.None);
                return WrongCode();
            }
        }
        if (CheckCompletion(dto, granted, description) is { } invalid)
        {
            return ProblemResult(400, "Invalid decision", invalid);
        }

        var outcome = granted.Length > 0 ? CibaJson.Approved : CibaJson.Denied;
        var decision = new CibaDecision(internalId, subject, outcome, Utc(stored.CreationTime).AddSeconds(stored.Lifetime));
        if (!await decisions.TryAddAsync(decision, ct))
        {
            // Lost the race with another tab or a retry: report what won.
            return await decisions.FindAsync(internalId, ct) is { } winner && winner.Subject == subject
                ? AlreadyDecided(winner.Outcome)
                : NotFound();
        }

        // From here on CancellationToken.None: a decision that passed the gate is carried through even
        // if the browser goes away, so the record and Duende never disagree.
        try
        {
            await duende.CompleteAsync(new CompleteBackchannelLoginRequest(internalId)
            {
                ScopesValuesConsented = granted.Length > 0 ? granted : null, // null denies
                Description = description,
            }, CancellationToken.None);
        }
        catch (Exception ex)
        {
            await decisions.RemoveAsync(decision, CancellationToken.None);
            if (ex is InvalidOperationException)
            {
                // Duende's refusals (request gone, subject mismatch, extra scopes) are InvalidOperationException;
                // the checks above leave only "gone meanwhile".
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CibaApproval")
                    .LogWarning(ex, "Duende refused to complete CIBA request {InternalId}", internalId);
                return NotFound();
            }
            throw; // UseCibaApproval turns it into a 500 problem
        }

        // Every device of this user closes the request's notification (CibaPush.cs; in the background).
        await PushClosedAsync(http, subject, internalId);

        // The template's Ciba consent page raises these events and counts these metrics, with these
        // arguments (templates/src/IdentityServer/Pages/Ciba/Consent.cshtml.cs). Here they follow a
        // completion Duende accepted, so a refused completion is not audited as a decision.
        var clientId = request.Client.ClientId;
        var validated = request.ValidatedResources;
        if (outcome == CibaJson.Approved)
        {
            await duende.RaiseEventAsync(new ConsentGrantedEvent(subject, clientId, validated.RawScopeValues, granted, false), CancellationToken.None);
            Telemetry.Metrics.ConsentGranted(clientId, granted, false);
            Telemetry.Metrics.ConsentDenied(clientId, validated.ParsedScopes.Select(s => s.ParsedName).Except(granted));
        }
        else
        {
            await duende.RaiseEventAsync(new ConsentDeniedEvent(subject, clientId, validated.RawScopeValues), CancellationToken.None);
            Telemetry.Metrics.ConsentDenied(clientId, validated.ParsedScopes.Select(s => s.ParsedName));
        }
        return Results.NoContent();
    }

    /// <summary>The contract's LoginRequest::check_completion: null when the decision fits the request.</summary>
    public static string? CheckCompletion(PendingRequest request, IReadOnlyCollection<string> granted, string? description)
    {
        if (description is not null && description.EnumerateRunes().Count() > CibaJson.DescriptionMaxChars)
        {
            return $"The description is longer than {CibaJson.DescriptionMaxChars} characters.";
        }
        if (granted.Count == 0) return null; // a denial needs no scopes
        var offered = request.IdentityScopes.Concat(request.ApiScopes).ToArray();
        if (granted.FirstOrDefault(value => offered.All(s => s.Value != value)) is { } unknown)
        {
            return $"The scope '{unknown}' was not requested.";
        }
        if (offered.FirstOrDefault(s => s.Required && !granted.Contains(s.Value)) is { } missing)
        {
            return $"The scope '{missing.Value}' is required to approve.";
        }
        return null;
    }

    /// <summary>
    /// The request as the page shows it. Scopes are mapped as the template's Ciba consent page does
    /// (identity resources; API scopes by parsed name, with the parameter in the display name;
    /// offline_access last when the client asked for it); everything the interaction service leaves
    /// unset (Tenant, IdP) or does not carry (CreationTime, Lifetime) comes from the stored request.
    /// </summary>
    public static PendingRequest Map(BackchannelUserLoginRequest request, BackChannelAuthenticationRequest stored, CibaApprovalOptions options, CibaCodeCheck? check)
    {
        var resources = request.ValidatedResources.Resources;
        var identity = resources.IdentityResources
            .Select(r => new ScopeInfo(r.Name, r.DisplayName ?? r.Name, r.Description, r.Required, r.Emphasize, []))
            .ToArray();
        var api = new List<ScopeInfo>();
        foreach (var parsed in request.ValidatedResources.ParsedScopes)
        {
            var scope = resources.FindApiScope(parsed.ParsedName);
            if (scope is null) continue;
            var displayName = scope.DisplayName ?? scope.Name;
            if (!string.IsNullOrWhiteSpace(parsed.ParsedParameter)) displayName += ":" + parsed.ParsedParameter;
            // Every API resource of the request that contains the scope (the contract's "resources").
            var owners = resources.ApiResources
                .Where(a => a.Scopes.Contains(parsed.ParsedName))
                .Select(a => a.Name)
                .ToArray();
            api.Add(new ScopeInfo(parsed.RawValue, displayName, scope.Description, scope.Required, scope.Emphasize, owners));
        }
        if (options.OfferOfflineAccess && resources.OfflineAccess)
        {
            api.Add(new ScopeInfo(IdentityServerConstants.StandardScopes.OfflineAccess, "Offline Access",
                "Access to your applications and resources, even when you are offline", false, true, []));
        }
        var client = request.Client;
        var created = Utc(stored.CreationTime);
        return new PendingRequest(
            stored.InternalId,
            new ClientInfo(client.ClientId, client.ClientName ?? client.ClientId, client.ClientUri, client.LogoUri),
            // With the code check on, the page gets the three choices and never the answer.
            check is null ? stored.BindingMessage : null,
            stored.AuthenticationContextReferenceClasses?.ToArray() ?? [],
            stored.Tenant,
            stored.IdP,
            stored.RequestedResourceIndicators?.ToArray() ?? [],
            identity,
            api.ToArray(),
            Rfc3339(created),
            Rfc3339(created.AddSeconds(stored.Lifetime)),
            check is not null,
            check?.Choices);
    }

    /// <summary>Whether the client has the code check on (client property ciba:verifyBindingMessage = "true").</summary>
    public static bool VerifiesBindingMessage(Client client, BackChannelAuthenticationRequest stored, CibaApprovalOptions options) =>
        stored.BindingMessage is not null
        && client.Properties.TryGetValue(options.VerifyBindingMessageProperty, out var flag)
        && string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The request's code check (made on first use, kept until expiry), or null when it is off.</summary>
    private static async Task<CibaCodeCheck?> CodeCheckAsync(HttpContext http, BackchannelUserLoginRequest request, BackChannelAuthenticationRequest stored)
    {
        if (!VerifiesBindingMessage(request.Client, stored, Options(http))) return null;
        var codes = http.RequestServices.GetRequiredService<ICibaCodeCheckStore>();
        return await codes.GetOrCreateAsync(stored.InternalId, stored.BindingMessage!,
            Utc(stored.CreationTime).AddSeconds(stored.Lifetime), CancellationToken.None);
    }

    private static bool IsOpenFor(BackChannelAuthenticationRequest stored, string subject, DateTime now) =>
        !stored.IsComplete
        && SubjectOf(stored.Subject) == subject
        && Utc(stored.CreationTime).AddSeconds(stored.Lifetime) > now;

    /// <summary>
    /// X-CSRF: 1 (a header a cross-site form cannot send, and a cross-site fetch cannot without a CORS
    /// preflight nobody grants) and, where the browser sends Origin, the configured public origin —
    /// not Request.Scheme/Host, which are the proxy's view behind TLS termination.
    /// </summary>
    private static bool IsSameOriginDecision(HttpRequest request, CibaApprovalOptions options)
    {
        if (request.Headers["X-CSRF"] != "1") return false;
        var origin = request.Headers["Origin"];
        if (origin.Count == 0) return true; // a non-browser client or an old browser
        CibaApprovalOptions.TryNormalizeOrigin(options.PublicOrigin, out var publicOrigin);
        return origin.Count == 1 && string.Equals(origin[0], publicOrigin, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The body, read here: wrong content type, bad JSON, too large or no internalId → 400 problem.</summary>
    private static async Task<(CompleteRequest? Body, IResult? Error)> ReadCompleteRequestAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, error) = await ReadJsonAsync<CompleteRequest>(request, "The body is not a valid decision.", ct);
        if (error is not null) return (null, error);
        static IResult Invalid(string detail) => ProblemResult(400, "Invalid request", detail);
        if (body is null || string.IsNullOrEmpty(body.InternalId)) return (null, Invalid("internalId is required."));
        if (body.ScopesValuesConsented?.Any(string.IsNullOrEmpty) == true) return (null, Invalid("A scope value is empty."));
        return (body, null);
    }

    /// <summary>A JSON body of at most MaxBodyBytes, read here: wrong content type, too large or bad JSON → 400 problem.</summary>
    private static async Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, string notValid, CancellationToken ct)
        where T : class
    {
        static IResult Invalid(string detail) => ProblemResult(400, "Invalid request", detail);
        if (!request.HasJsonContentType()) return (null, Invalid("The body must be application/json."));
        if (request.ContentLength > MaxBodyBytes) return (null, Invalid("The body is too large."));

        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
        {
            length += read;
        }
        if (length > MaxBodyBytes) return (null, Invalid("The body is too large."));
        try
        {
            return (JsonSerializer.Deserialize<T>(buffer.AsSpan(0, length), CibaJson.Options), null);
        }
        catch (JsonException)
        {
            return (null, Invalid(notValid));
        }
    }

    private static bool IfNoneMatch(HttpRequest request, string etag)
    {
        foreach (var header in request.Headers.IfNoneMatch)
        {
            foreach (var candidate in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (candidate == "*" || candidate == etag || candidate == "W/" + etag) return true;
            }
        }
        return false;
    }

    // The "sub" claim; null without a session (an anonymous principal has none).
    private static string? SubjectOf(ClaimsPrincipal? principal) => principal?.FindFirst("sub")?.Value;

    private static CibaApprovalOptions Options(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<CibaApprovalOptions>>().Value;

    private static DateTime Now(HttpContext http) =>
        http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;

    // Duende writes CreationTime as UTC; after a round trip through a store the Kind may be lost.
    internal static DateTime Utc(DateTime value) =>
        value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static string Rfc3339(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static IResult Ok<T>(T value) => Results.Json(value, CibaJson.Options);

    private static IResult SignInRequired() =>
        ProblemResult(401, "Sign-in required", "Sign in to see your sign-in requests.");

    private static IResult NotFound() => ProblemResult(404, "Not found",
        "This request was not found. It may have expired, been decided already, or belong to someone else.");

    private static IResult AlreadyDecided(string outcome) => Results.Json(
        new Problem("about:blank", "Already decided", 409, $"You already {outcome} this request.", outcome),
        CibaJson.Options, CibaJson.ProblemContentType, 409);

    private static IResult WrongCode() => CodeProblem(CibaJson.WrongCodeProblem,
        "That was not the code the other device shows. This request can now only be denied.");

    private static IResult CodeProblem(string type, string detail) => Results.Json(
        new Problem(type, "Bad Request", 400, detail, null), CibaJson.Options, CibaJson.ProblemContentType, 400);

    private static IResult ProblemResult(int status, string title, string? detail) => Results.Json(
        new Problem("about:blank", title, status, detail, null), CibaJson.Options, CibaJson.ProblemContentType, status);

    private static Task WriteProblem(HttpContext http, int status, string title, string? detail)
    {
        http.Response.StatusCode = status;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.ContentType = CibaJson.ProblemContentType;
        return http.Response.WriteAsync(
            JsonSerializer.Serialize(new Problem("about:blank", title, status, detail, null), CibaJson.Options));
    }

    private static string? ReadIndexHtml(WebApplication app, ILogger logger)
    {
        var file = app.Environment.WebRootFileProvider.GetFileInfo("ciba/index.html");
        if (!file.Exists)
        {
            logger.LogWarning("wwwroot/ciba/index.html is missing: copy the SPA's dist/ there and restart");
            return null;
        }
        using var stream = file.CreateReadStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
