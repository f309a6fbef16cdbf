using System.Text.Json;

namespace LlmResilience;

/// <summary>
/// A call's token cost before it is sent: the request body's size in bytes divided by four (about four bytes of
/// JSON per token for English prompts), plus the output it asks for (<c>max_completion_tokens</c>, else
/// <c>max_tokens</c>, else <see cref="DefaultOutputTokens"/>; a body held as a stream is never read here, only its
/// declared length counts). Only an estimate: pacing corrects it from the answer's
/// <c>usage</c>, and the context preflight leaves a margin.
/// </summary>
internal static class TokenEstimate
{
    /// <summary>The output assumed for a request that does not bound it.</summary>
    public const int DefaultOutputTokens = 256;

    public static int Of(LlmCall call)
    {
        if (call.EstimatedTokens is { } known)
        {
            return known;
        }

        var content = call.Template?.Content;
        long bytes;
        int? output;
        if (content is JsonRequestContent json)
        {
            bytes = json.Bytes.Length;
            output = call.ChatRequest?.MaxCompletionTokens ?? call.ChatRequest?.MaxTokens;
        }
        else if (content is ByteArrayContent or ReadOnlyMemoryContent)
        {
            // In memory: reading it does not use it up.
            var body = ReadBody(content);
            bytes = body.Length;
            output = MaxOutputOf(body);
        }
        else if (content is not null)
        {
            // A stream body may be read only once, by the send: its declared length, and the default output.
            bytes = content.Headers.ContentLength ?? 0;
            output = null;
        }
        else
        {
            bytes = 0;
            output = null;
        }

        var estimate = (int)Math.Min(int.MaxValue, (bytes + 3) / 4 + (output ?? DefaultOutputTokens));
        call.EstimatedTokens = estimate;
        return estimate;
    }

    private static byte[] ReadBody(HttpContent content)
    {
        using var stream = content.ReadAsStream();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The top-level <c>max_completion_tokens</c> (or <c>max_tokens</c>) of a JSON body.</summary>
    internal static int? MaxOutputOf(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            int? maxTokens = null, maxCompletionTokens = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCompletion = reader.ValueTextEquals("max_completion_tokens"u8);
                var isMax = !isCompletion && reader.ValueTextEquals("max_tokens"u8);
                reader.Read();
                if ((isCompletion || isMax) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
                {
                    if (isCompletion)
                    {
                        maxCompletionTokens = value;
                    }
                    else
                    {
                        maxTokens = value;
                    }
                }

                reader.Skip();
            }

            return maxCompletionTokens ?? maxTokens;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
