namespace LlmResilience.Doctor.Diagnosis;

/// <summary>What every step of one walk shares: the settings, the report being built, the clock and the progress.</summary>
internal sealed class DiagnosisContext(DoctorSettings settings, ReportBuilder report, IDoctorProgress progress)
{
    public DoctorSettings Settings { get; } = settings;

    public ReportBuilder Report { get; } = report;

    public IDoctorProgress Progress { get; } = progress;

    public long Now() => Settings.TimeProvider.GetTimestamp();

    public TimeSpan Since(long start) => Settings.TimeProvider.GetElapsedTime(start);

    /// <summary>A deadline on the settings' clock, linked to the caller's cancellation.</summary>
    public Deadline Deadline(TimeSpan timeout, CancellationToken cancellationToken) => new(timeout, Settings.TimeProvider, cancellationToken);

    public void Step(string name, StepOutcome outcome, TimeSpan? elapsed, string summary, params IEnumerable<string> details) =>
        Report.Add(new DoctorStep(name, outcome, elapsed, summary, [.. details]));
}

/// <summary>A timeout on a <see cref="TimeProvider"/> joined with a caller's token; <see cref="Expired"/> tells which fired.</summary>
internal sealed class Deadline : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public Deadline(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(timeout, timeProvider);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
    }

    public CancellationToken Token => _linked.Token;

    public bool Expired => _timer.IsCancellationRequested;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
