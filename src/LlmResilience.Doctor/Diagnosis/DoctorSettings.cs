using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace LlmResilience.Doctor.Diagnosis;

/// <summary>What to diagnose, and the seams tests pin (resolver, clock, proxy, trusted roots, thresholds).</summary>
internal sealed record DoctorSettings
{
    /// <summary>Gets the API base address, such as <c>https://api.openai.com/v1/</c> (a missing trailing slash is added).</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>Gets the API key sent as <c>Authorization: Bearer</c>; it never appears in the report.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Gets where the key came from (<c>--api-key</c>, <c>OPENAI_API_KEY</c>), for the configuration step.</summary>
    public string? ApiKeySource { get; init; }

    /// <summary>Gets the model of the chat and stream calls; without one those steps are skipped.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the proxy, as HttpClient would use it (<see cref="HttpClient.DefaultProxy"/> in the tool); <see langword="null"/> for none.</summary>
    public IWebProxy? Proxy { get; init; }

    /// <summary>Gets where the proxy came from, such as "HTTPS_PROXY, NO_PROXY", for the proxy step.</summary>
    public string? ProxySource { get; init; }

    /// <summary>Gets the resolver of host names; <see langword="null"/> for the system's (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? Resolver { get; init; }

    /// <summary>Gets roots trusted besides the system's (a private CA); <see langword="null"/> trusts only the system store.</summary>
    public X509Certificate2Collection? TrustedRoots { get; init; }

    /// <summary>Gets the clock every step is timed with and every deadline runs on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the longest wait for a name to resolve.</summary>
    public TimeSpan DnsTimeout { get; init; } = DoctorDefaults.DnsTimeout;

    /// <summary>Gets the longest wait for a TCP connect, a proxy's CONNECT answer or a TLS handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = DoctorDefaults.ConnectTimeout;

    /// <summary>Gets the longest wait for each HTTP call (headers and body).</summary>
    public TimeSpan RequestTimeout { get; init; } = DoctorDefaults.RequestTimeout;

    /// <summary>Gets the time to first byte of <c>GET models</c> above which it is reported as slow.</summary>
    public TimeSpan SlowFirstByte { get; init; } = DoctorDefaults.SlowFirstByte;

    /// <summary>Gets the span within which all events of a stream arriving counts as one burst (a buffering proxy).</summary>
    public TimeSpan BurstWindow { get; init; } = DoctorDefaults.BurstWindow;
}

/// <summary>The defaults of <see cref="DoctorSettings"/>.</summary>
internal static class DoctorDefaults
{
    /// <summary>A resolver that has not answered in 10 seconds is as good as broken.</summary>
    public static readonly TimeSpan DnsTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The pipeline's own <c>ConnectTimeout</c>: a connect that takes longer is not coming.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Long enough for a one-token answer from a busy model.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary><c>GET models</c> costs no tokens: an API answers it in well under a second; three is slow.</summary>
    public static readonly TimeSpan SlowFirstByte = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Token events of a real stream are some milliseconds apart even on the fastest providers (hundreds of tokens a second);
    /// a buffering proxy delivers them in one read, within a millisecond.
    /// </summary>
    public static readonly TimeSpan BurstWindow = TimeSpan.FromMilliseconds(15);

    /// <summary>Fewer events than this say nothing about spacing.</summary>
    public const int MinEventsForSpacing = 4;
}
