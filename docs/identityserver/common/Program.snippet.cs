// Program.snippet.cs — ciba-approval for Duende.IdentityServer 7.x and 8.x (the same file for
// both: copy it with the files of v7/ or v8/). NOT compiled (CibaApproval.csproj
// removes it): the lines a host made with `dotnet new duende-is` adds to its Extensions/HostingExtensions.cs.
// Each method below names the template method its lines go into, and where.

using CibaApproval;
using Duende.IdentityServer;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace CibaApproval.Snippet;

internal static class HostingExtensionsLines
{
    // HostingExtensions.ConfigureServices(WebApplicationBuilder builder):
    public static WebApplication ConfigureServices(WebApplicationBuilder builder)
    {
        var isBuilder = builder.Services
            .AddIdentityServer(options =>
            {
                // ... the template's options stay as they are. The idsrv session cookie is
                // SameSite=None by default (AuthenticationOptions.CookieSameSiteMode): the page calls the
                // API same-origin and needs no cross-site cookie, so Lax is enough — unless the host also
                // serves OIDC session management / front-channel sign-out iframes to clients on other
                // sites, or a portal on another site frames the page (README.md, "Cookies").
                options.Authentication.CookieSameSiteMode = SameSiteMode.Lax;
            })
            // ... the template's AddTestUsers / AddConfigurationStore / AddOperationalStore stay ...
            .AddBackchannelAuthenticationUserNotificationService<CibaNotificationService>();

        // Secure always (the cookie handler's default is SameAsRequest, i.e. not Secure over http
        // behind a proxy); HttpOnly is the cookie handler's default already.
        builder.Services.PostConfigure<CookieAuthenticationOptions>(
            IdentityServerConstants.DefaultCookieAuthenticationScheme,
            cookie => cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always);

        // Options (section "CibaApproval"), the decision record, the clock, and Web Push (section
        // "CibaApproval:Push": the subscription store, the queue, the hosted sender; off without VAPID keys).
        builder.AddCibaApproval();

        return builder.Build(); // the template's last line
    }

    // HostingExtensions.ConfigurePipeline(WebApplication app):
    public static WebApplication ConfigurePipeline(WebApplication app)
    {
        // ... UseSerilogRequestLogging, UseDeveloperExceptionPage, and the template's
        // Content-Security-Policy app.Use(...) block stay. The template appends its policy to EVERY
        // response; to leave /ciba to the page's own policy, wrap its Append in
        //     if (!context.Request.Path.StartsWithSegments(CibaApprovalOptions.SpaPath))
        // (UseCibaApproval replaces it on /ciba responses either way; README.md, "Content-Security-Policy").

        // Right after that block and BEFORE app.UseStaticFiles(...): no-store and problem+json under
        // /api/ciba, the page's headers under /ciba (static files included).
        app.UseCibaApproval();

        // ... UseStaticFiles, UseRouting, UseIdentityServer, UseAuthentication, UseAuthorization,
        // MapRazorPages().RequireAuthorization() stay. Delete the template's Pages/Ciba/ folder: its
        // /Ciba page would clash with the SPA's /ciba route. Keep Pages/Account/Logout as it is.

        // After MapRazorPages():
        app.MapCibaApproval();

        return app;
    }
}
