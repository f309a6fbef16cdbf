using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LlmResilience.Doctor.Tests.Support;

/// <summary>Self-signed server certificates made in the test: for the right names, the wrong ones, or already expired.</summary>
internal static class Certificates
{
    public static X509Certificate2 SelfSigned(string dnsName, IPAddress? address = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        if (address is not null)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var ephemeral = request.CreateSelfSigned(end.AddDays(-60), end);
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }
}
