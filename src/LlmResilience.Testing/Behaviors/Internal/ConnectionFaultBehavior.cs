namespace LlmResilience.Testing;

/// <summary>Ends the connection before any response byte, with an RST or a FIN (see <see cref="SocketTermination"/>).</summary>
internal sealed class ConnectionFaultBehavior(string name, bool reset) : FakeBehavior(name)
{
    internal override Task ExecuteAsync(FakeRequestContext context)
    {
        if (reset)
        {
            SocketTermination.Reset(context.HttpContext, context.Connection?.Socket);
        }
        else
        {
            SocketTermination.Close(context.HttpContext, context.Connection?.Socket);
        }

        return Task.CompletedTask;
    }
}
