using System.Text.Json;

namespace LlmResilience.Testing;

/// <summary>What the fake server needs from a chat-completions request body; a body that is not JSON reads as a plain, non-streaming request.</summary>
internal sealed record ChatRequestInfo(bool IsStreaming, bool IncludeUsage, int PromptTokens)
{
    public static readonly ChatRequestInfo Empty = new(false, false, 0);

    /// <summary>Reads <c>stream</c>, <c>stream_options.include_usage</c>, and counts the words of the messages as prompt tokens.</summary>
    public static ChatRequestInfo Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return Empty;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Empty;
            }

            var isStreaming = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var streamOptions)
                && streamOptions.ValueKind == JsonValueKind.Object
                && streamOptions.TryGetProperty("include_usage", out var usage)
                && usage.ValueKind == JsonValueKind.True;
            return new ChatRequestInfo(isStreaming, includeUsage, CountPromptWords(root));
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static int CountPromptWords(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        var words = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content))
            {
                continue;
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                words += ContentPieces.CountWords(content.GetString());
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                // Content parts: [{"type":"text","text":"…"}, {"type":"image_url",…}].
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object
                        && part.TryGetProperty("text", out var text)
                        && text.ValueKind == JsonValueKind.String)
                    {
                        words += ContentPieces.CountWords(text.GetString());
                    }
                }
            }
        }

        return words;
    }
}
