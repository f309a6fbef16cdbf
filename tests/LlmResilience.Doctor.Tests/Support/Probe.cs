using System.Text.Json;
using LlmResilience.Doctor.Cli;
using LlmResilience.Doctor.Diagnosis;
using LlmResilience.Testing;

namespace LlmResilience.Doctor.Tests.Support;

/// <summary>Runs the engine with short, test-sized deadlines, and checks what it found.</summary>
internal static class Probe
{
    public const string Model = "fake-model";

    public static DoctorSettings Settings(Uri baseAddress, string? model = Model) => new()
    {
        BaseAddress = baseAddress,
        Model = model,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(10),
        DnsTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// Scripts a healthy walk with a model: the model list, the one-token answer, and a stream whose events are spaced as a
    /// model's tokens are (the fake's plain <see cref="FakeBehavior.Ok"/> stream writes every event at once, which is exactly
    /// what a buffering proxy looks like).
    /// </summary>
    public static FakeLlmServer ScriptHealthy(this FakeLlmServer server) =>
        server.Enqueue(FakeBehavior.Ok(), FakeBehavior.Ok(), SpacedStream());

    public static FakeBehavior SpacedStream() =>
        FakeBehavior.OkStream(["1", " 2", " 3", " 4", " 5", " 6"], TimeSpan.FromMilliseconds(20));

    public static Task<DoctorReport> RunAsync(DoctorSettings settings) => new DoctorEngine(settings).RunAsync();

    public static Task<DoctorReport> RunAsync(Uri baseAddress, string? model = Model) => RunAsync(Settings(baseAddress, model));

    /// <summary>Asserts that exactly these causes were found, and that each says what to do.</summary>
    public static void AssertCauses(DoctorReport report, params DoctorCause[] causes)
    {
        Assert.True(
            causes.SequenceEqual(report.Findings.Select(f => f.Cause)),
            $"Expected [{string.Join(", ", causes)}] but found [{string.Join(", ", report.Findings.Select(f => f.Cause))}]:\n{JsonOutput.Serialize(report)}");
        Assert.All(report.Findings, f =>
        {
            Assert.False(string.IsNullOrWhiteSpace(f.Summary));
            Assert.False(string.IsNullOrWhiteSpace(f.Fix));
        });
    }

    public static DoctorStep Step(DoctorReport report, string name) => Assert.Single(report.Steps, s => s.Name == name);

    public static string AllText(DoctorReport report) => JsonOutput.Serialize(report);

    public static JsonDocument Json(string text) => JsonDocument.Parse(text);
}
