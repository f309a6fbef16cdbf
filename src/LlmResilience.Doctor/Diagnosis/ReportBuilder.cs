namespace LlmResilience.Doctor.Diagnosis;

/// <summary>
/// Collects the steps and findings of one walk. Every text passes through <see cref="Scrub"/> on the way out, so the key
/// cannot reach the report even when a server echoes it back in an error body.
/// </summary>
internal sealed class ReportBuilder(string? apiKey)
{
    private const string Hidden = "***";
    private readonly List<DoctorStep> _steps = [];
    private readonly List<DoctorFinding> _findings = [];

    public void Add(DoctorStep step) => _steps.Add(step);

    /// <summary>Adds a finding; a second one with the same cause (a 401 on both the model list and the chat call) is dropped.</summary>
    public void Add(DoctorFinding finding)
    {
        if (!_findings.Exists(f => f.Cause == finding.Cause))
        {
            _findings.Add(finding);
        }
    }

    public DoctorReport Build(string baseAddress, string? proxy) => new(
        Scrub(baseAddress),
        proxy is null ? null : Scrub(proxy),
        [.. _steps.Select(s => s with { Summary = Scrub(s.Summary), Details = [.. s.Details.Select(Scrub)] })],
        [.. _findings.Select(f => f with { Summary = Scrub(f.Summary), Fix = Scrub(f.Fix) })]);

    /// <summary>Replaces the key, wherever it appears, with <c>***</c>.</summary>
    public string Scrub(string text) =>
        string.IsNullOrEmpty(apiKey) ? text : text.Replace(apiKey, Hidden, StringComparison.Ordinal);
}
