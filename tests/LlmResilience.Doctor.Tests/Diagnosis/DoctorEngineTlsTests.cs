using System.Net;
using LlmResilience.Doctor.Diagnosis;
using LlmResilience.Doctor.Tests.Support;
using LlmResilience.Testing;

namespace LlmResilience.Doctor.Tests.Diagnosis;

/// <summary>TLS: certificates made in the test, served by FakeLlmServer over real TLS.</summary>
public sealed class DoctorEngineTlsTests
{
    [Fact]
    public async Task Run_TrustedCertificate_ReportsProtocolAlpnNamesAndExpiry()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true });
        server.ScriptHealthy();

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { TrustedRoots = [server.Certificate!] });

        Probe.AssertCauses(report);
        var tls = Probe.Step(report, "TLS");
        Assert.Equal(StepOutcome.Ok, tls.Outcome);
        Assert.Contains(tls.Details, d => d.StartsWith("protocol TLS 1.", StringComparison.Ordinal));
        Assert.Contains("ALPN: h2", tls.Details);
        Assert.Contains(tls.Details, d => d.StartsWith("names: localhost, 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(tls.Details, d => d.StartsWith("expires ", StringComparison.Ordinal));
        Assert.Contains(tls.Details, d => d.StartsWith("chain: CN=localhost", StringComparison.Ordinal));
        Assert.StartsWith("HTTP/2", Probe.Step(report, "HTTP GET models").Details[0], StringComparison.Ordinal);
        Assert.All(server.Requests, r => Assert.Equal("HTTP/2", r.Protocol));
    }

    [Fact]
    public async Task Run_SelfSignedCertificate_TlsUntrustedCertificate()
    {
        using var certificate = Certificates.SelfSigned("localhost", IPAddress.Loopback);
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true, Certificate = certificate });

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report, DoctorCause.TlsUntrustedCertificate);
        Assert.Contains("self-signed", report.Findings[0].Summary);
        Assert.Empty(server.Requests); // nothing is sent over a connection that failed its handshake
    }

    [Fact]
    public async Task Run_ExpiredCertificate_TlsUntrustedCertificateSaysExpired()
    {
        using var certificate = Certificates.SelfSigned("localhost", IPAddress.Loopback, notAfter: DateTimeOffset.UtcNow.AddDays(-2));
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true, Certificate = certificate });

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { TrustedRoots = [certificate] });

        Probe.AssertCauses(report, DoctorCause.TlsUntrustedCertificate);
        Assert.Contains("expired", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_CertificateForAnotherName_TlsHostnameMismatch()
    {
        using var certificate = Certificates.SelfSigned("api.other.test");
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true, Certificate = certificate });

        // Trusted, so that the name is the only thing wrong.
        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { TrustedRoots = [certificate] });

        Probe.AssertCauses(report, DoctorCause.TlsHostnameMismatch);
        Assert.Contains("'127.0.0.1'", report.Findings[0].Summary);
        Assert.Contains("api.other.test", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_PlainHttpPortBehindAnHttpsUrl_TlsHandshakeFailed()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var https = new UriBuilder(server.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;

        var report = await Probe.RunAsync(https);

        Probe.AssertCauses(report, DoctorCause.TlsHandshakeFailed);
        Assert.Contains("plain HTTP", report.Findings[0].Summary);
        Assert.Contains("http://", report.Findings[0].Fix);
    }
}
