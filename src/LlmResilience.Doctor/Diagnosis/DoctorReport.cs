namespace LlmResilience.Doctor.Diagnosis;

/// <summary>One thing found wrong: its cause, what was seen, and what to do about it.</summary>
internal sealed record DoctorFinding(DoctorCause Cause, string Summary, string Fix)
{
    public string Code => Cause.Code();
}

/// <summary>How a step of the walk ended.</summary>
internal enum StepOutcome
{
    /// <summary>The step worked.</summary>
    Ok,

    /// <summary>The step worked, with something worth a look (an address that timed out beside one that answered, a 400 on the chat call).</summary>
    Warning,

    /// <summary>The step failed; a finding says why.</summary>
    Failed,

    /// <summary>The step did not apply (no TLS on http://, no model given) or an earlier step failed.</summary>
    Skipped,
}

/// <summary>One step of the walk (configuration, proxy, DNS, TCP, TLS, HTTP, chat, stream), timed.</summary>
internal sealed record DoctorStep(string Name, StepOutcome Outcome, TimeSpan? Elapsed, string Summary, IReadOnlyList<string> Details);

/// <summary>What llm-doctor saw, step by step, and what it found wrong. Never holds the API key.</summary>
internal sealed record DoctorReport(string BaseAddress, string? Proxy, IReadOnlyList<DoctorStep> Steps, IReadOnlyList<DoctorFinding> Findings)
{
    public bool Healthy => Findings.Count == 0;
}
