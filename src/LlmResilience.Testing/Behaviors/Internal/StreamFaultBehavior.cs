using System.Globalization;

namespace LlmResilience.Testing;

/// <summary>What a broken stream does after its content chunks.</summary>
internal enum StreamFaultKind
{
    /// <summary>Silence until the client or the server gives up.</summary>
    Stall,

    /// <summary>A TCP RST.</summary>
    Reset,

    /// <summary>A clean end of the response, without finish chunk or <c>[DONE]</c>.</summary>
    EndWithoutDone,
}

/// <summary>A stream that sends some content chunks, then stalls, resets or ends early.</summary>
internal sealed class StreamFaultBehavior(StreamFaultKind kind, int events)
    : FakeBehavior(NameOf(kind), string.Create(CultureInfo.InvariantCulture, $"{NameOf(kind)}({events})"))
{
    internal override async Task ExecuteAsync(FakeRequestContext context)
    {
        var socket = context.Connection?.Socket;
        var stream = kind == StreamFaultKind.Reset && socket is not null
            ? await ChatStream.StartOnSocketAsync(context, context.Request.IncludeUsage, socket).ConfigureAwait(false)
            : await ChatStream.StartAsync(context, context.Request.IncludeUsage).ConfigureAwait(false);
        foreach (var piece in ContentPieces.Take(context.Options.DefaultContent, events))
        {
            await stream.WriteContentAsync(piece).ConfigureAwait(false);
        }

        switch (kind)
        {
            case StreamFaultKind.Stall:
                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken).ConfigureAwait(false);
                break;
            case StreamFaultKind.Reset:
                SocketTermination.Reset(context.HttpContext, socket);
                break;
            case StreamFaultKind.EndWithoutDone:
            default:
                // Returning completes the chunked body with its terminator: a clean end the client cannot tell from a
                // finished stream but for the missing finish chunk and [DONE].
                break;
        }
    }

    private static string NameOf(StreamFaultKind kind) => kind switch
    {
        StreamFaultKind.Stall => "StreamStallAfter",
        StreamFaultKind.Reset => "StreamResetAfter",
        _ => "StreamEndWithoutDone",
    };
}
