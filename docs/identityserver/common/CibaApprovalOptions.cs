// CibaApprovalOptions.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/).
// The "CibaApproval" configuration section (appsettings.CibaApproval.json), the page's
// Content-Security-Policy and the link a notification carries. No Duende member is used here.

using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace CibaApproval;

public sealed class CibaApprovalOptions
{
    public const string Section = "CibaApproval";

    /// <summary>Where the browser-facing UI lives: Trunk's public_url.</summary>
    public const string SpaPath = "/ciba";

    /// <summary>Where the JSON API lives: contract::API_BASE.</summary>
    public const string ApiPath = "/api/ciba";

    /// <summary>
    /// The origin browsers see, e.g. <c>https://id.example.com</c>. The Origin header of a decision must
    /// equal it, and notification links start with it. Configured, never derived from the request: behind
    /// a TLS-terminating proxy Request.Scheme is "http" while the browser sends "https://…".
    /// </summary>
    public string PublicOrigin { get; set; } = "";

    /// <summary>Portal origins that may frame the page: GET /api/ciba/embedding and CSP frame-ancestors.</summary>
    public string[] AllowedEmbedOrigins { get; set; } = [];

    /// <summary>https origins client logos load from (Client.LogoUri): CSP img-src.</summary>
    public string[] LogoOrigins { get; set; } = [];

    /// <summary>
    /// Offer offline_access on the page when the client asked for it — the template's
    /// ConsentOptions.EnableOfflineAccess. The page itself never pre-ticks it (see README.md).
    /// </summary>
    public bool OfferOfflineAccess { get; set; } = true;

    /// <summary>The client property that switches on the binding-message check for a client.</summary>
    public string VerifyBindingMessageProperty { get; set; } = "ciba:verifyBindingMessage";

    /// <summary>"https://id.example.com" for "https://ID.example.com:443/"; false for anything but an http(s) origin.</summary>
    public static bool TryNormalizeOrigin(string? value, out string origin)
    {
        origin = "";
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || uri.UserInfo.Length > 0)
        {
            return false;
        }
        origin = uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        return true;
    }

    /// <summary>The link a notification carries: <c>https://host/ciba/requests/{InternalId}</c>.</summary>
    public string RequestLink(string internalId)
    {
        TryNormalizeOrigin(PublicOrigin, out var origin);
        return $"{origin}{SpaPath}/requests/{Uri.EscapeDataString(internalId)}";
    }

    /// <summary>
    /// The page's Content-Security-Policy: own files only, WebAssembly compilation, the SHA-256 of each
    /// inline script of the built index.html (Trunk's module loader, the page's own) in script-src and
    /// of each inline stylesheet in style-src — never 'unsafe-inline' or 'unsafe-eval'. Logos from
    /// <see cref="LogoOrigins"/>; framed only by <see cref="AllowedEmbedOrigins"/>.
    /// </summary>
    public string ContentSecurityPolicy(string? indexHtml)
    {
        var scriptSrc = new List<string> { "'self'", "'wasm-unsafe-eval'" };
        foreach (var script in InlineScripts(indexHtml ?? ""))
        {
            scriptSrc.Add(Sha256Source(script));
        }
        var styleSrc = new List<string> { "'self'" };
        foreach (var style in InlineStyles(indexHtml ?? ""))
        {
            styleSrc.Add(Sha256Source(style));
        }
        var imgSrc = new List<string> { "'self'" };
        foreach (var logo in LogoOrigins)
        {
            if (TryNormalizeOrigin(logo, out var origin) && origin.StartsWith("https://", StringComparison.Ordinal)
                && !imgSrc.Contains(origin))
            {
                imgSrc.Add(origin);
            }
        }
        var ancestors = EmbedOrigins();
        return string.Join("; ",
            "default-src 'self'",
            $"script-src {string.Join(' ', scriptSrc)}",
            $"style-src {string.Join(' ', styleSrc)}",
            $"img-src {string.Join(' ', imgSrc)}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            $"frame-ancestors {(ancestors.Length == 0 ? "'none'" : string.Join(' ', ancestors))}");
    }

    /// <summary>The configured portal origins, normalized; invalid entries are dropped.</summary>
    public string[] EmbedOrigins() =>
        AllowedEmbedOrigins
            .Select(o => TryNormalizeOrigin(o, out var origin) ? origin : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    /// <summary>'sha256-…': the CSP source that allows exactly <paramref name="text"/> inline.</summary>
    private static string Sha256Source(string text) =>
        $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)))}'";

    /// <summary>
    /// The text of every &lt;script&gt; without a src attribute, exactly as the browser hashes it — those
    /// inside a &lt;template&gt; too: the browser checks them when the page clones them into the document.
    /// </summary>
    public static List<string> InlineScripts(string html) =>
        InlineElements(html, "script")
            .Where(e => !SrcAttribute.IsMatch(e.Attributes))
            .Select(e => e.Text)
            .ToList();

    /// <summary>
    /// A src attribute, which makes a script external: by its name, so that a data-src attribute does
    /// not leave an inline script out of the policy.
    /// </summary>
    private static readonly Regex SrcAttribute =
        new(@"(?:^|\s)src(?:\s*=|\s|/|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>
    /// The text of every &lt;style&gt; element, exactly as the browser hashes it: the build puts the page's
    /// stylesheet inline, so that the page paints its placeholder from the HTML alone.
    /// </summary>
    public static List<string> InlineStyles(string html) =>
        InlineElements(html, "style").Select(e => e.Text).ToList();

    /// <summary>The attributes and text of every &lt;name …&gt;…&lt;/name&gt; element of <paramref name="html"/>.</summary>
    private static List<(string Attributes, string Text)> InlineElements(string html, string name)
    {
        var elements = new List<(string Attributes, string Text)>();
        var open = "<" + name;
        var close = "</" + name;
        var rest = html.AsSpan();
        while (true)
        {
            var start = rest.IndexOf(open, StringComparison.OrdinalIgnoreCase);
            if (start < 0) break;
            var afterName = rest[(start + open.Length)..];
            if (afterName.Length == 0) break;
            // The tag name ends at white space, '/' or '>': "<scripts>" or "<style-x>" is another element.
            var next = afterName[0];
            if (!char.IsWhiteSpace(next) && next != '/' && next != '>')
            {
                rest = afterName;
                continue;
            }
            var tagEnd = afterName.IndexOf('>');
            if (tagEnd < 0) break;
            var body = afterName[(tagEnd + 1)..];
            var end = body.IndexOf(close, StringComparison.OrdinalIgnoreCase);
            if (end < 0) break;
            elements.Add((afterName[..tagEnd].ToString(), body[..end].ToString()));
            rest = body[end..];
        }
        return elements;
    }
}
