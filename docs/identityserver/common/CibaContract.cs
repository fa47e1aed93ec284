// CibaContract.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/).
// The JSON of contract/openapi.json as C# records. Written with JsonSerializerDefaults.Web, so the
// property names are the camelCase of these names (make test compares them with the OpenAPI schemas).
// Note "Idp", not Duende's "IdP": camel-casing "IdP" would give "idP".

using System.Text.Json;
using System.Text.Json.Serialization;

namespace CibaApproval;

// schema: SessionInfo
public sealed record SessionInfo(string Subject, string Name);

// schema: EmbeddingSettings
public sealed record EmbeddingSettings(string[] AllowedOrigins);

// schema: ClientInfo
public sealed record ClientInfo(string ClientId, string ClientName, string? ClientUri, string? LogoUri);

// schema: ScopeInfo
public sealed record ScopeInfo(
    string Value,
    string DisplayName,
    string? Description,
    bool Required,
    bool Emphasize,
    string[] Resources);

// BindingMessageChoices: only with the code check on (then BindingMessage is null), the three choices
// in display order (CibaCodeCheck.cs).
// schema: Request
public sealed record PendingRequest(
    string InternalId,
    ClientInfo Client,
    string? BindingMessage,
    string[] AcrValues,
    string? Tenant,
    string? Idp,
    string[] ResourceIndicators,
    ScopeInfo[] IdentityScopes,
    ScopeInfo[] ApiScopes,
    string CreatedAt,
    string ExpiresAt,
    bool VerifyBindingMessage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? BindingMessageChoices);

// BindingMessage: the choice the person picked; required to approve with the code check on, ignored
// otherwise.
// schema: CompleteRequest
public sealed record CompleteRequest(
    string? InternalId,
    List<string?>? ScopesValuesConsented,
    string? Description,
    string? BindingMessage = null);

// Web Push (CibaApprovalApi.Push.cs, CibaPush.cs). Read leniently (every field nullable) so that a missing
// field is a 400 with a clear detail, not a binding error.
// schema: PushSettings
public sealed record PushSettings(string VapidPublicKey);

// What the browser's PushSubscription.toJSON() gives; named apart from Lib.Net.Http.WebPush's PushSubscription.
// schema: PushSubscription
public sealed record BrowserPushSubscription(string? Endpoint, double? ExpirationTime, BrowserPushKeys? Keys);

// schema: PushKeys
public sealed record BrowserPushKeys(string? P256dh, string? Auth);

// schema: PushUnsubscribe
public sealed record PushUnsubscribe(string? Endpoint);

// The JSON pushed to the page's service worker (the contract's PushMessage, tagged by "kind"). The binding
// message is left out (null) when the client has the code check on: the person must read the code on the
// other device, not on the notification.
public sealed record PushRequestMessage(
    string Kind,
    string InternalId,
    string Url,
    string ClientName,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BindingMessage,
    string ExpiresAt);

public sealed record PushClosedMessage(string Kind, string InternalId, string Url);

// schema: Problem
public sealed record Problem(
    string Type,
    string Title,
    int Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Outcome);

public static class CibaJson
{
    /// <summary>camelCase names, case-insensitive reading: the contract's encoding.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public const string ProblemContentType = "application/problem+json";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const int DescriptionMaxChars = 100;
    /// <summary>The problem type of an approval refused for a wrong pick (or after one): only Deny is left.</summary>
    public const string WrongCodeProblem = "https://ciba-approval.dev/problems/wrong-code";
    /// <summary>The problem type of an approval sent without the pick although the code check is on.</summary>
    public const string CodeRequiredProblem = "https://ciba-approval.dev/problems/code-required";
}
