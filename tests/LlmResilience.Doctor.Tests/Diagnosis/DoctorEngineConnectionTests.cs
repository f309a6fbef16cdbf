using System.Net;
using System.Net.Sockets;
using LlmResilience.Doctor.Diagnosis;
using LlmResilience.Doctor.Tests.Support;
using LlmResilience.Testing;

namespace LlmResilience.Doctor.Tests.Diagnosis;

/// <summary>Configuration, proxy, DNS and TCP: each cause against a real broken setup on loopback.</summary>
public sealed class DoctorEngineConnectionTests
{
    [Fact]
    public async Task Run_HealthyServer_NoFindingsAndEveryStepTimed()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();

        var report = await Probe.RunAsync(server.BaseAddress);

        Probe.AssertCauses(report);
        Assert.Equal(
            ["Configuration", "Proxy", "DNS", "TCP connect", "TLS", "HTTP GET models", "Chat (1 token)", "Stream"],
            report.Steps.Select(s => s.Name));
        Assert.Equal(StepOutcome.Skipped, Probe.Step(report, "DNS").Outcome); // 127.0.0.1 needs no lookup
        Assert.Equal(StepOutcome.Skipped, Probe.Step(report, "TLS").Outcome);
        Assert.All(report.Steps.Where(s => s.Name is "TCP connect" or "HTTP GET models" or "Chat (1 token)" or "Stream"), s =>
        {
            Assert.Equal(StepOutcome.Ok, s.Outcome);
            Assert.NotNull(s.Elapsed);
        });
        Assert.Contains("models listed: 1", Probe.Step(report, "HTTP GET models").Details);
        Assert.Contains(Probe.Step(report, "HTTP GET models").Details, d => d.StartsWith("request id: req_", StringComparison.Ordinal));
        Assert.Equal(["GET", "POST", "POST"], server.Requests.Select(r => r.Method));
        Assert.True(server.Requests[2].IsStreaming);
    }

    [Fact]
    public async Task Run_Progress_IsToldWhatEachStepWaitsFor()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();
        var progress = new RecordingProgress();

        await new DoctorEngine(Probe.Settings(server.BaseAddress), progress).RunAsync();

        Assert.Equal(
            [$"Connecting to 127.0.0.1:{server.Port}", $"GET {server.BaseAddress}models", $"POST {server.BaseAddress}chat/completions", $"Streaming from {server.BaseAddress}chat/completions"],
            progress.Activities);
    }

    [Fact]
    public async Task Run_InjectedClock_TimesEveryStep()
    {
        await using var server = await FakeLlmServer.StartAsync();

        // Each reading of the clock is one second after the last: the first byte of GET models comes "1000 ms" after it was sent,
        // on any machine, and is slow against a 500 ms threshold.
        var settings = Probe.Settings(server.BaseAddress, model: null) with
        {
            TimeProvider = new SteppingClock(TimeSpan.FromSeconds(1)),
            SlowFirstByte = TimeSpan.FromMilliseconds(500),
        };

        var report = await Probe.RunAsync(settings);

        Assert.StartsWith("200 OK, first byte 1000 ms", Probe.Step(report, "HTTP GET models").Summary, StringComparison.Ordinal);
        Assert.Equal(0, Probe.Step(report, "TCP connect").Elapsed!.Value.Ticks % TimeSpan.TicksPerSecond);
        Probe.AssertCauses(report, DoctorCause.SlowFirstByte);
    }

    [Fact]
    public async Task Run_NoModel_SkipsChatAndStream()
    {
        await using var server = await FakeLlmServer.StartAsync();

        var report = await Probe.RunAsync(server.BaseAddress, model: null);

        Probe.AssertCauses(report);
        Assert.Equal(StepOutcome.Skipped, Probe.Step(report, "Chat (1 token)").Outcome);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Run_NameUnderTheInvalidTld_DnsFailure()
    {
        // RFC 6761: .invalid never resolves, so the system resolver answers "not found" (or nothing, within the timeout).
        var report = await Probe.RunAsync(new Uri("https://api.llm-doctor.invalid/v1/"));

        Probe.AssertCauses(report, DoctorCause.DnsFailure);
        Assert.Contains("api.llm-doctor.invalid", report.Findings[0].Summary);
        Assert.Equal(StepOutcome.Failed, Probe.Step(report, "DNS").Outcome);
        Assert.DoesNotContain(report.Steps, s => s.Name == "TCP connect");
    }

    [Fact]
    public async Task Run_InjectedResolverSaysNotFound_DnsFailure()
    {
        var settings = Probe.Settings(new Uri("https://api.example.test/v1/")) with
        {
            Resolver = (_, _) => throw new SocketException((int)SocketError.HostNotFound),
        };

        var report = await Probe.RunAsync(settings);

        Probe.AssertCauses(report, DoctorCause.DnsFailure);
        Assert.Contains("HostNotFound", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_InjectedResolverMapsTheName_EveryStepUsesIt()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();
        var resolved = new List<string>();
        var settings = Probe.Settings(new Uri($"http://api.example.test:{server.Port}/v1/")) with
        {
            Resolver = (host, _) =>
            {
                lock (resolved)
                {
                    resolved.Add(host);
                }

                return Task.FromResult(new[] { IPAddress.Loopback });
            },
        };

        var report = await Probe.RunAsync(settings);

        Probe.AssertCauses(report);
        Assert.Equal(["127.0.0.1"], Probe.Step(report, "DNS").Details);
        Assert.All(resolved, host => Assert.Equal("api.example.test", host));
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Run_ClosedPort_ConnectRefused()
    {
        var report = await Probe.RunAsync(FakeLlmServer.GetRefusedAddress());

        Probe.AssertCauses(report, DoctorCause.ConnectRefused);
        Assert.Contains("refused", Probe.Step(report, "TCP connect").Details.Single());
    }

    [Fact]
    public async Task Run_ListenerThatNeverAccepts_ConnectTimeout()
    {
        using var endpoint = await UnresponsiveEndpoint.StartAsync();
        var settings = Probe.Settings(endpoint.BaseAddress) with { ConnectTimeout = TimeSpan.FromMilliseconds(300) };

        var report = await Probe.RunAsync(settings);

        Probe.AssertCauses(report, DoctorCause.ConnectTimeout);
        Assert.Contains("300 ms", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_ProxyThatIsDown_ProxyUnreachable()
    {
        var settings = Probe.Settings(new Uri("https://api.example.test/v1/")) with { Proxy = new WebProxy(FakeLlmServer.GetRefusedAddress()) };

        var report = await Probe.RunAsync(settings);

        Probe.AssertCauses(report, DoctorCause.ProxyUnreachable);
        Assert.Contains($"127.0.0.1:{FakeLlmServer.GetRefusedAddress().Port}", report.Findings[0].Summary);
        Assert.Contains("127.0.0.1", report.Proxy);
    }

    [Theory]
    [InlineData("407 Proxy Authentication Required", "proxy_rejected")]
    [InlineData("403 Forbidden", "proxy_rejected")]
    [InlineData("502 Bad Gateway", "proxy_upstream_error")]
    public async Task Run_ProxyRefusesTheTunnel_NamesWhatItSaid(string statusLine, string code)
    {
        await using var proxy = TinyProxy.Refusing(statusLine);
        var settings = Probe.Settings(new Uri("https://api.example.test/v1/")) with { Proxy = new WebProxy(proxy.Address) };

        var report = await Probe.RunAsync(settings);

        Assert.Equal(code, Assert.Single(report.Findings).Code);
        Assert.Equal(["CONNECT api.example.test:443 HTTP/1.1"], proxy.Requests);
        Assert.Contains(statusLine[..3], report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_ProxyThatTunnels_HealthyThroughIt()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true });
        server.ScriptHealthy();
        await using var proxy = TinyProxy.Tunneling();
        var settings = Probe.Settings(server.BaseAddress) with { Proxy = new WebProxy(proxy.Address), TrustedRoots = [server.Certificate!] };

        var report = await Probe.RunAsync(settings);

        Probe.AssertCauses(report);
        Assert.Equal(StepOutcome.Ok, Probe.Step(report, "Proxy tunnel").Outcome);
        Assert.Contains(proxy.Requests, r => r == $"CONNECT 127.0.0.1:{server.Port} HTTP/1.1");
        Assert.True(proxy.Requests.Count >= 2, "the TLS step and the HTTP steps each tunnel");
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Run_ProxyBypassedForTheHost_ConnectsDirectly()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();
        var bypassing = new WebProxy(FakeLlmServer.GetRefusedAddress()) { BypassList = [@"127\.0\.0\.1"] };

        var report = await Probe.RunAsync(Probe.Settings(server.BaseAddress) with { Proxy = bypassing });

        Probe.AssertCauses(report);
        Assert.Null(report.Proxy);
        Assert.StartsWith("none", Probe.Step(report, "Proxy").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ProxyFromTheEnvironment_SaysWhichVariablesConfiguredIt()
    {
        var settings = Probe.Settings(new Uri("https://api.example.test/v1/")) with
        {
            Proxy = new WebProxy(FakeLlmServer.GetRefusedAddress()),
            ProxySource = "HTTPS_PROXY, NO_PROXY",
        };

        var report = await Probe.RunAsync(settings);

        Assert.Contains("configured by HTTPS_PROXY, NO_PROXY", Probe.Step(report, "Proxy").Details);
        Assert.StartsWith("through http://127.0.0.1:", Probe.Step(report, "Proxy").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BaseAddressEndingInChatCompletions_WrongBaseAddress()
    {
        await using var server = await FakeLlmServer.StartAsync();

        var report = await Probe.RunAsync(new Uri(server.BaseAddress, "chat/completions"), model: null);

        Assert.Equal(DoctorCause.WrongBaseAddress, report.Findings[0].Cause);
        Assert.Contains("chat/completions", report.Findings[0].Summary);
    }

    [Fact]
    public async Task Run_KeyWithPlainHttpToAnotherHost_KeyNotSent()
    {
        await using var server = await FakeLlmServer.StartAsync();
        var settings = Probe.Settings(new Uri($"http://api.example.test:{server.Port}/v1/")) with
        {
            Resolver = (_, _) => Task.FromResult(new[] { IPAddress.Loopback }),
            ApiKey = "sk-test-never-in-clear-text",
        };

        var report = await Probe.RunAsync(settings);

        Assert.All(server.Requests, r => Assert.False(r.SentApiKey("sk-test-never-in-clear-text")));
        Assert.All(server.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
        Assert.Equal(StepOutcome.Warning, Probe.Step(report, "Configuration").Outcome);
        Assert.DoesNotContain("sk-test-never-in-clear-text", Probe.AllText(report));
    }

    private sealed class RecordingProgress : IDoctorProgress
    {
        public List<string> Activities { get; } = [];

        public void Starting(string activity) => Activities.Add(activity);
    }

    /// <summary>A clock that moves on by <paramref name="step"/> each time it is read; its timers are the system's.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, step.Ticks);
    }
}
