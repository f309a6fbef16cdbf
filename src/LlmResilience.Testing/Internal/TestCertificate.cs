using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LlmResilience.Testing;

/// <summary>The self-signed server certificate of <see cref="FakeLlmServerOptions.UseHttps"/>, made once per process.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> Shared = new(() => Create("localhost", IPAddress.Loopback, IPAddress.IPv6Loopback));

    /// <summary>Gets the certificate for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>.</summary>
    public static X509Certificate2 Localhost => Shared.Value;

    /// <summary>Makes a self-signed TLS server certificate (ECDSA P-256: fast to make) for a DNS name and addresses, in its SAN.</summary>
    public static X509Certificate2 Create(string dnsName, params IPAddress[] addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        // A round trip through PKCS#12 gives a key every platform's TLS stack can use (Windows refuses ephemeral keys).
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }
}
