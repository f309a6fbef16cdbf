using System.Text.Json;
using LlmResilience.Doctor.Cli;
using LlmResilience.Doctor.Diagnosis;
using LlmResilience.Doctor.Tests.Support;
using LlmResilience.Testing;

namespace LlmResilience.Doctor.Tests.Cli;

/// <summary>The command line: exit codes, --json that parses, the table, and a key that never appears in the output.</summary>
public sealed class DoctorCommandTests
{
    private const string Key = "sk-test-cli-secret-5f3a9c0e7b21d4";

    private static readonly string[] Codes =
    [
        "dns_failure", "connect_refused", "connect_timeout", "tls_untrusted_certificate", "tls_hostname_mismatch",
        "tls_handshake_failed", "proxy_unreachable", "proxy_rejected", "reset_before_headers", "proxy_upstream_error",
        "unauthorized", "wrong_base_address", "rate_limited", "quota_exceeded", "slow_first_byte", "stream_buffered",
    ];

    [Fact]
    public async Task Run_HealthyServer_ExitsZeroAndPrintsTheTable()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.ScriptHealthy();

        var (code, output, _) = await RunAsync("--base-url", server.BaseAddress.ToString(), "--model", "fake-model");

        Assert.Equal(DoctorCommand.Healthy, code);
        Assert.Contains("HTTP GET models", output);
        Assert.Contains("TCP connect", output);
        Assert.Contains("Healthy: no problems found.", output);
    }

    [Fact]
    public async Task Run_ClosedPort_ExitsOneAndNamesTheCauseAndFix()
    {
        var (code, output, _) = await RunAsync("--base-url", FakeLlmServer.GetRefusedAddress().ToString());

        Assert.Equal(DoctorCommand.ProblemsFound, code);
        Assert.Contains("connect_refused", output);
        Assert.Contains("1 problem found.", output);
    }

    [Fact]
    public async Task Run_Json_ParsesWithFindingsFirstAndKnownCodes()
    {
        var (code, output, _) = await RunAsync("--base-url", FakeLlmServer.GetRefusedAddress().ToString(), "--json");

        Assert.Equal(DoctorCommand.ProblemsFound, code);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("findings", root.EnumerateObject().First().Name);
        var finding = Assert.Single(root.GetProperty("findings").EnumerateArray());
        Assert.Equal("connect_refused", finding.GetProperty("cause").GetString());
        Assert.False(string.IsNullOrEmpty(finding.GetProperty("summary").GetString()));
        Assert.False(string.IsNullOrEmpty(finding.GetProperty("fix").GetString()));
        Assert.False(root.GetProperty("healthy").GetBoolean());
        Assert.Contains(root.GetProperty("steps").EnumerateArray(), s => s.GetProperty("name").GetString() == "TCP connect" && s.GetProperty("outcome").GetString() == "failed");
    }

    [Fact]
    public async Task Run_JsonHealthy_ExitsZeroWithNoFindings()
    {
        await using var server = await FakeLlmServer.StartAsync();

        var (code, output, _) = await RunAsync("--base-url", server.BaseAddress.ToString(), "--json");

        Assert.Equal(DoctorCommand.Healthy, code);
        using var json = JsonDocument.Parse(output);
        Assert.Empty(json.RootElement.GetProperty("findings").EnumerateArray());
        Assert.True(json.RootElement.GetProperty("healthy").GetBoolean());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_WrongKey_NeverPrintsIt(bool asJson)
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = "sk-right" });
        string[] args = ["--base-url", server.BaseAddress.ToString(), "--api-key", Key, "--model", "fake-model", .. asJson ? new[] { "--json" } : []];

        var (code, output, error) = await RunAsync(args);

        Assert.Equal(DoctorCommand.ProblemsFound, code);
        Assert.Contains("unauthorized", output);
        Assert.True(server.Requests[0].SentApiKey(Key));
        Assert.DoesNotContain(Key, output + error);
        Assert.DoesNotContain(Key[^10..], output + error);
        if (asJson)
        {
            using var json = JsonDocument.Parse(output);
            Assert.All(json.RootElement.GetProperty("findings").EnumerateArray(), f => Assert.Contains(f.GetProperty("cause").GetString(), Codes));
        }
    }

    [Fact]
    public async Task Run_KeyFromTheEnvironment_IsSentAndNeverPrinted()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { RequireApiKey = true, ApiKey = Key });

        var (code, output, _) = await RunAsync(["--base-url", server.BaseAddress.ToString(), "--json"], name => name == "OPENAI_API_KEY" ? Key : null);

        Assert.Equal(DoctorCommand.Healthy, code);
        Assert.True(server.Requests[0].SentApiKey(Key));
        Assert.Contains("OPENAI_API_KEY", output);
        Assert.DoesNotContain(Key, output);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--base-url")]
    [InlineData("--base-url|not a url")]
    [InlineData("--base-url|ftp://example.test/v1/")]
    [InlineData("--base-url|/v1/")]
    [InlineData("--base-url|https://api.example.test/v1/|--bogus")]
    public async Task Run_UsageError_ExitsTwoWithUsage(string commandLine)
    {
        var (code, output, error) = await RunAsync(commandLine.Split('|', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(DoctorCommand.UsageError, code);
        Assert.Contains("Usage: llm-doctor --base-url URL", error);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task Run_MistypedKeyOption_UsageErrorHidesTheKey()
    {
        var (code, _, error) = await RunAsync("--base-url", "https://api.example.test/v1/", "--apikey", Key);

        Assert.Equal(DoctorCommand.UsageError, code);
        Assert.Contains("--apikey", error);
        Assert.DoesNotContain(Key, error);
    }

    [Fact]
    public async Task Run_Help_ExitsZeroAndListsTheOptions()
    {
        var (code, output, _) = await RunAsync("--help");

        Assert.Equal(0, code);
        Assert.Contains("--base-url", output);
        Assert.Contains("--json", output);
    }

    [Fact]
    public async Task Run_AdjustHook_ReachesTheEngine()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.Delay(TimeSpan.FromMilliseconds(150), FakeBehavior.Ok()));

        var (code, output, _) = await RunAsync(
            ["--base-url", server.BaseAddress.ToString(), "--json"],
            adjust: s => s with { SlowFirstByte = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(DoctorCommand.ProblemsFound, code);
        Assert.Contains("slow_first_byte", output);
    }

    private static Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => RunAsync(args, null);

    private static async Task<(int Code, string Output, string Error)> RunAsync(
        string[] args, Func<string, string?>? environment = null, Func<DoctorSettings, DoctorSettings>? adjust = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var host = new DoctorHost
        {
            Out = output,
            Error = error,
            Environment = environment ?? (_ => null),
            Adjust = adjust ?? (s => s with { ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromSeconds(10) }),
        };
        var code = await DoctorCommand.RunAsync(args, host);
        return (code, output.ToString(), error.ToString());
    }
}
