using System.Globalization;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>
/// Shakes hands with the API as HttpClient would (SNI, ALPN h2 and http/1.1, the system's trust) and reports the
/// protocol, the ALPN choice, the chain, the names and the expiry; on failure it says which of them is wrong.
/// </summary>
internal static class TlsProbe
{
    /// <summary>A certificate that expires sooner than this is worth a warning.</summary>
    private static readonly TimeSpan ExpirySoon = TimeSpan.FromDays(14);

    /// <returns>Whether the handshake succeeded (a finding says why not).</returns>
    public static async Task<bool> RunAsync(DiagnosisContext context, Stream stream, Uri target, CancellationToken cancellationToken)
    {
        var host = target.IdnHost;
        var endpoint = $"{host}:{target.Port.ToString(CultureInfo.InvariantCulture)}";
        context.Progress.Starting($"TLS handshake with {endpoint}");
        var seen = new SeenCertificate();
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => seen.Validate(certificate, chain, errors, context.Settings.TrustedRoots),
        };

        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        await using var _ = ssl.ConfigureAwait(false);
        var start = context.Now();
        using var deadline = context.Deadline(context.Settings.ConnectTimeout, cancellationToken);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException || (e is OperationCanceledException && deadline.Expired))
        {
            Fail(context, seen, e, endpoint, host, context.Since(start), deadline.Expired);
            return false;
        }

        var elapsed = context.Since(start);
        var details = new List<string>
        {
            $"protocol {Protocol(ssl.SslProtocol)}, cipher {ssl.NegotiatedCipherSuite}",
            $"ALPN: {(ssl.NegotiatedApplicationProtocol.Protocol.IsEmpty ? "none (HTTP/1.1)" : ssl.NegotiatedApplicationProtocol.ToString())}",
        };
        details.AddRange(seen.Describe(context.Settings.TimeProvider.GetUtcNow()));
        var left = seen.NotAfter - context.Settings.TimeProvider.GetUtcNow();
        var soon = left < ExpirySoon;
        context.Step("TLS", soon ? StepOutcome.Warning : StepOutcome.Ok, elapsed,
            soon ? $"{Protocol(ssl.SslProtocol)}, certificate expires in {left.TotalDays:0} days" : $"{Protocol(ssl.SslProtocol)}, certificate valid for {host}",
            details);
        return true;
    }

    private static void Fail(DiagnosisContext context, SeenCertificate seen, Exception error, string endpoint, string host, TimeSpan elapsed, bool timedOut)
    {
        var details = seen.Describe(context.Settings.TimeProvider.GetUtcNow()).ToList();
        if (seen.Errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            context.Report.Add(Findings.TlsNameMismatch(host, seen.Names));
        }

        if (seen.Errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors) || seen.Errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            context.Report.Add(Findings.TlsUntrusted(endpoint, seen.ChainProblem()));
        }

        if (seen.Errors != SslPolicyErrors.None)
        {
            context.Step("TLS", StepOutcome.Failed, elapsed, $"certificate rejected: {seen.Errors}", details);
            return;
        }

        // No certificate was judged: the handshake itself broke. The core names a plain-HTTP answer the same way for calls.
        var problem = TransportFailures.FindTlsProblem(new HttpRequestException(HttpRequestError.SecureConnectionError, error.Message, error));
        var notTls = problem == TlsProblem.NotTls;
        var what = timedOut ? $"no answer within {Findings.Ms(context.Settings.ConnectTimeout)}"
            : notTls ? "the server did not answer in TLS (it speaks plain HTTP on this port)"
            : Innermost(error);
        context.Step("TLS", StepOutcome.Failed, elapsed, $"handshake failed: {what}", details);
        context.Report.Add(Findings.TlsHandshake(endpoint, what, notTls));
    }

    private static string Innermost(Exception error)
    {
        var e = error;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e == error ? error.Message : $"{error.Message} ({e.Message})";
    }

    private static string Protocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };

    /// <summary>What the validation callback saw: the chain, the names and the policy errors, kept for the report.</summary>
    private sealed class SeenCertificate
    {
        private readonly List<string> _chain = [];
        private X509ChainStatusFlags _status;

        public SslPolicyErrors Errors { get; private set; }

        public DateTimeOffset NotAfter { get; private set; } = DateTimeOffset.MaxValue;

        public string Names { get; private set; } = "no names";

        public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? trustedRoots)
        {
            if (certificate is not X509Certificate2 leaf)
            {
                Errors = errors;
                return false;
            }

            NotAfter = leaf.NotAfter.ToUniversalTime();
            Names = NamesOf(leaf);
            if (trustedRoots is { Count: > 0 } && errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            {
                // Judge the chain again against the extra roots, as CustomTrustStore does for the pipeline.
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                custom.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
                if (custom.Build(leaf))
                {
                    errors &= ~SslPolicyErrors.RemoteCertificateChainErrors;
                }

                chain = custom;
                Record(custom);
            }
            else if (chain is not null)
            {
                Record(chain);
            }

            Errors = errors;
            return errors == SslPolicyErrors.None;
        }

        public IEnumerable<string> Describe(DateTimeOffset now)
        {
            if (_chain.Count == 0)
            {
                yield break;
            }

            yield return $"names: {Names}";
            var left = NotAfter - now;
            yield return left < TimeSpan.Zero
                ? $"expired {NotAfter:yyyy-MM-dd} ({-left.TotalDays:0} days ago)"
                : $"expires {NotAfter:yyyy-MM-dd} (in {left.TotalDays:0} days)";
            foreach (var (line, index) in _chain.Select((line, index) => (line, index)))
            {
                yield return index == 0 ? $"chain: {line}" : $"  ← {line}";
            }
        }

        public string ChainProblem()
        {
            if (_status.HasFlag(X509ChainStatusFlags.NotTimeValid))
            {
                return $"it expired on {NotAfter:yyyy-MM-dd} (or is not valid yet)";
            }

            if (_status.HasFlag(X509ChainStatusFlags.UntrustedRoot))
            {
                return _chain.Count <= 1
                    ? "it is self-signed (UntrustedRoot)"
                    : "it chains to a root this machine does not trust (UntrustedRoot): a private CA or a TLS-inspecting proxy";
            }

            if (_status.HasFlag(X509ChainStatusFlags.PartialChain))
            {
                return "its chain is incomplete (PartialChain): the server does not send its intermediate certificate, or the root is unknown";
            }

            return _status == X509ChainStatusFlags.NoError ? "the chain was rejected" : $"the chain was rejected ({_status})";
        }

        private void Record(X509Chain chain)
        {
            _chain.Clear();
            _status = X509ChainStatusFlags.NoError;
            foreach (var status in chain.ChainStatus)
            {
                _status |= status.Status;
            }

            foreach (var element in chain.ChainElements)
            {
                var certificate = element.Certificate;
                _chain.Add($"{certificate.Subject} (issued by {certificate.Issuer}, until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            }
        }

        private static string NamesOf(X509Certificate2 certificate)
        {
            var names = new List<string>();
            foreach (var extension in certificate.Extensions)
            {
                if (extension is X509SubjectAlternativeNameExtension san)
                {
                    names.AddRange(san.EnumerateDnsNames());
                    names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
                }
            }

            return names.Count > 0 ? string.Join(", ", names) : $"only its subject {certificate.Subject}";
        }
    }
}
