using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Doctor.Diagnosis;

namespace LlmResilience.Doctor.Cli;

/// <summary><c>--json</c>: the report as one JSON object, findings first, for scripts and CI.</summary>
internal static class JsonOutput
{
    private static readonly DoctorJsonContext Context = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static async Task<DoctorReport> RunAsync(DoctorSettings settings, DoctorHost host, CancellationToken cancellationToken)
    {
        var report = await new DoctorEngine(settings).RunAsync(cancellationToken).ConfigureAwait(false);
        await host.Out.WriteLineAsync(Serialize(report)).ConfigureAwait(false);
        return report;
    }

    public static string Serialize(DoctorReport report) => JsonSerializer.Serialize(
        new JsonReport(
            [.. report.Findings.Select(f => new JsonFinding(f.Code, f.Summary, f.Fix))],
            report.Healthy,
            report.BaseAddress,
            report.Proxy,
            [.. report.Steps.Select(s => new JsonStep(s.Name, Outcome(s.Outcome), s.Elapsed?.TotalMilliseconds is { } ms ? Math.Round(ms, 1) : null, s.Summary, s.Details))]),
        Context.JsonReport);

    internal static string Outcome(StepOutcome outcome) => outcome switch
    {
        StepOutcome.Ok => "ok",
        StepOutcome.Warning => "warning",
        StepOutcome.Failed => "failed",
        _ => "skipped",
    };
}

internal sealed record JsonReport(IReadOnlyList<JsonFinding> Findings, bool Healthy, string BaseUrl, string? Proxy, IReadOnlyList<JsonStep> Steps);

internal sealed record JsonFinding(string Cause, string Summary, string Fix);

internal sealed record JsonStep(string Name, string Outcome, double? ElapsedMs, string Summary, IReadOnlyList<string> Details);

[JsonSerializable(typeof(JsonReport))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
