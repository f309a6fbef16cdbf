namespace LlmResilience.Testing;

/// <summary>Answers OK, and arms a load balancer's idle timeout on the connection (see <see cref="ConnectionState.CloseWhenIdle"/>).</summary>
internal sealed class IdleKeepAliveCloseBehavior(TimeSpan idleAfter)
    : FakeBehavior("IdleKeepAliveClose", $"IdleKeepAliveClose({idleAfter.TotalMilliseconds:0} ms)")
{
    private static readonly OkBehavior Answer = new(null);

    internal override Task ExecuteAsync(FakeRequestContext context)
    {
        context.Connection?.CloseWhenIdle(idleAfter);
        return Answer.ExecuteAsync(context);
    }
}
