namespace LlmResilience.Samples.AspNetCore.Tests;

/// <summary>A server-sent event as the page reads it: its name ("message" when none was given) and its data.</summary>
public sealed record SseEvent(string Name, string Data);

/// <summary>Splits a whole SSE body into events.</summary>
public static class SseEvents
{
    public static IReadOnlyList<SseEvent> Parse(string body)
    {
        var events = new List<SseEvent>();
        foreach (var block in body.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var name = "message";
            var data = string.Empty;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data += line["data:".Length..].TrimStart();
                }
            }

            events.Add(new SseEvent(name, data));
        }

        return events;
    }
}
