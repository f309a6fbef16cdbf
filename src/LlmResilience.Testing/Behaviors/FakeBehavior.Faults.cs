using System.Globalization;

namespace LlmResilience.Testing;

/// <summary>The behaviors that break the wire: resets, closes, hangs, delays and broken streams.</summary>
public abstract partial class FakeBehavior
{
    /// <summary>
    /// Reads the request, then resets the TCP connection (RST, zero linger) without a response byte: the client sees
    /// <c>ECONNRESET</c> (<see cref="System.Net.Sockets.SocketError.ConnectionReset"/>), not an end of stream.
    /// </summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior ResetBeforeHeaders() => new ConnectionFaultBehavior("ResetBeforeHeaders", reset: true);

    /// <summary>
    /// Reads the request, then closes the TCP connection gracefully (FIN) without a response byte: the client reads an end
    /// of stream where the status line should be.
    /// </summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior CloseBeforeHeaders() => new ConnectionFaultBehavior("CloseBeforeHeaders", reset: false);

    /// <summary>Never answers, until the client gives up or the server is disposed (which aborts the connection).</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Hang() => HangBehavior.Instance;

    /// <summary>Waits <paramref name="delay"/> before any response byte (slow headers), then behaves as <paramref name="then"/>.</summary>
    /// <param name="delay">The wait, on real time.</param>
    /// <param name="then">The behavior after the wait.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior Delay(TimeSpan delay, FakeBehavior then)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(then);
        return new DelayBehavior(delay, then);
    }

    /// <summary>Answers 200 <c>text/event-stream</c> whose data event is not JSON (a chunk cut off mid-object), then <c>data: [DONE]</c>.</summary>
    /// <returns>The behavior.</returns>
    public static FakeBehavior MalformedSse() => MalformedSseBehavior.Instance;

    /// <summary>
    /// Streams: headers, then <paramref name="events"/> content chunks (the first also carries the role), then silence:
    /// no more bytes, the response never ends, until the client disconnects or the server is disposed.
    /// <c>StreamStallAfter(0)</c> sends only the headers (a first-token timeout).
    /// </summary>
    /// <param name="events">The number of content chunks before the stall.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior StreamStallAfter(int events) => StreamFault(StreamFaultKind.Stall, events);

    /// <summary>
    /// Streams: headers, then only <c>: keep-alive</c> SSE comments every <paramref name="interval"/>, never a data event:
    /// bytes keep arriving, but no token ever does.
    /// </summary>
    /// <param name="interval">The pause before each comment.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior StreamKeepAliveOnly(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return new StreamKeepAliveOnlyBehavior(interval);
    }

    /// <summary>
    /// Streams <paramref name="events"/> content chunks (the first also carries the role), flushed, then resets the TCP
    /// connection (RST): the client reads those events, then its next read fails with <c>ECONNRESET</c>.
    /// </summary>
    /// <param name="events">The number of content chunks before the reset.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior StreamResetAfter(int events) => StreamFault(StreamFaultKind.Reset, events);

    /// <summary>
    /// Streams <paramref name="events"/> content chunks (the first also carries the role), with no finish chunk and no
    /// <c>data: [DONE]</c>, then ends the response cleanly (the chunked terminator): the connection stays usable.
    /// </summary>
    /// <param name="events">The number of content chunks.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior StreamEndWithoutDone(int events) => StreamFault(StreamFaultKind.EndWithoutDone, events);

    /// <summary>
    /// Answers as <see cref="Ok"/> on a keep-alive connection, then closes that connection (FIN) from the server side once it
    /// has been idle for <paramref name="idleAfter"/>, after this response and after any later one on it, as a load
    /// balancer's idle timeout does. A client that reuses the pooled connection just as it closes meets the
    /// stale-connection race.
    /// </summary>
    /// <param name="idleAfter">How long the connection may stay idle.</param>
    /// <returns>The behavior.</returns>
    public static FakeBehavior IdleKeepAliveClose(TimeSpan idleAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleAfter, TimeSpan.Zero);
        return new IdleKeepAliveCloseBehavior(idleAfter);
    }

    private static StreamFaultBehavior StreamFault(StreamFaultKind kind, int events)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        return new StreamFaultBehavior(kind, events);
    }
}
