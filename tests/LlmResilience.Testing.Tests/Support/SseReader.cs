using System.Text;

namespace LlmResilience.Testing.Tests;

/// <summary>Reads an SSE body event by event, exactly as sent: <c>data: …</c> events and <c>: comment</c> lines.</summary>
internal sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The lines of the next event (up to the blank line), joined with "\n"; null at the end of the body.</summary>
    public async Task<string?> ReadEventAsync(CancellationToken cancellationToken = default)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return lines.Count == 0 ? null : string.Join("\n", lines);
            }

            if (line.Length == 0)
            {
                if (lines.Count > 0)
                {
                    return string.Join("\n", lines);
                }

                continue;
            }

            lines.Add(line);
        }
    }

    /// <summary>Reads every event to the end of the body.</summary>
    public async Task<List<string>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var events = new List<string>();
        while (await ReadEventAsync(cancellationToken) is { } sseEvent)
        {
            events.Add(sseEvent);
        }

        return events;
    }

    public static string Data(string sseEvent) =>
        sseEvent.StartsWith("data: ", StringComparison.Ordinal) ? sseEvent["data: ".Length..] : throw new Xunit.Sdk.XunitException($"Not a data event: {sseEvent}");

    public void Dispose() => _reader.Dispose();
}
