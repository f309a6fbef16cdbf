namespace LlmResilience.Testing;

/// <summary>
/// The bodies proxies in front of a model send when they cannot reach it, byte for byte where it matters:
/// nginx's built-in error pages (CRLF line ends, ngx_http_special_response.c), Envoy's plain-text local reply,
/// and a trimmed Cloudflare 5xx page with its title and error code.
/// </summary>
internal static class ProxyPages
{
    public const string EnvoyUpstreamReset = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

    public static string Nginx(int statusCode) => statusCode switch
    {
        502 => NginxPage("502 Bad Gateway"),
        504 => NginxPage("504 Gateway Time-out"),
        _ => throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "Only 502 and 504 pages are modelled."),
    };

    public static string CloudflareTitle(int statusCode) => statusCode switch
    {
        520 => "Web server is returning an unknown error",
        521 => "Web server is down",
        522 => "Connection timed out",
        523 => "Origin is unreachable",
        524 => "A timeout occurred",
        _ => throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "Cloudflare's origin errors are 520 to 524."),
    };

    public static string Cloudflare(int statusCode, string host, string rayId)
    {
        var title = CloudflareTitle(statusCode);
        return $"""
            <!DOCTYPE html>
            <!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
            <!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
            <head>
            <title>{host} | {statusCode}: {title}</title>
            <meta charset="UTF-8" />
            <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
            <meta name="robots" content="noindex, nofollow" />
            </head>
            <body>
            <div id="cf-wrapper">
              <div id="cf-error-details" class="p-0">
                <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
                  <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
                    <span class="inline-block">{title}</span>
                    <span class="code-label">Error code {statusCode}</span>
                  </h1>
                  <div>Visit <a href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_{statusCode}&utm_campaign={host}" target="_blank" rel="noopener noreferrer">cloudflare.com</a> for more information.</div>
                </header>
              </div>
              <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
                <p class="text-13">
                  <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">{rayId.Split('-')[0]}</strong></span>
                  <span class="cf-footer-separator sm:hidden">&bull;</span>
                  <span class="cf-footer-item sm:block sm:mb-1"><span>Performance &amp; security by</span> <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_{statusCode}&utm_campaign={host}" id="brand_link" target="_blank">Cloudflare</a></span>
                </p>
              </div>
            </div>
            </body>
            </html>

            """;
    }

    private static string NginxPage(string status) =>
        "<html>\r\n"
        + $"<head><title>{status}</title></head>\r\n"
        + "<body>\r\n"
        + $"<center><h1>{status}</h1></center>\r\n"
        + "<hr><center>nginx</center>\r\n"
        + "</body>\r\n"
        + "</html>\r\n";
}
