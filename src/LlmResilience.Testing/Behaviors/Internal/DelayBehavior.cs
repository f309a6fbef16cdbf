namespace LlmResilience.Testing;

/// <summary>Slow headers: waits, then answers as another behavior.</summary>
internal sealed class DelayBehavior(TimeSpan delay, FakeBehavior then)
    : FakeBehavior("Delay", $"Delay({delay.TotalMilliseconds:0} ms, then {then})")
{
    internal override async Task ExecuteAsync(FakeRequestContext context)
    {
        await context.DelayAsync(delay).ConfigureAwait(false);
        await then.ExecuteAsync(context).ConfigureAwait(false);
    }
}
