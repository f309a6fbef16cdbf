using System.Buffers;
using System.Text.Json;

namespace LlmResilience;

/// <summary>
/// Sets the top-level <c>"model"</c> of a JSON request body another client built (the official SDK, M.E.AI), for an
/// endpoint that serves another model. The body was buffered for replay; the rest of it is kept byte for byte.
/// </summary>
internal static class JsonModelRewriter
{
    public static HttpContent Rewrite(HttpContent template, string model)
    {
        byte[] body;
        using (var stream = template.ReadAsStream())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            body = copy.ToArray();
        }

        var content = new ByteArrayContent(Rewrite(body, model));
        foreach (var header in template.Headers.NonValidated)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return content;
    }

    /// <summary>The body with its top-level <c>model</c> replaced (or added when absent); a body that is not a JSON object is returned as it is.</summary>
    public static byte[] Rewrite(byte[] body, string model)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return body;
            }

            var objectStart = (int)reader.TokenStartIndex;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var end = (int)reader.BytesConsumed;
                    return Splice(body, start, end, Quoted(model));
                }

                reader.Skip();
            }

            // No model in the body: add one first.
            var added = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(added))
            {
                writer.WriteStartObject();
                writer.WriteString("model"u8, model);
                writer.Flush();
            }

            var prefix = added.WrittenSpan[1..].ToArray(); // "\"model\":\"x\""
            var hasMembers = body.AsSpan(objectStart + 1).TrimStart(" \t\r\n"u8) is { Length: > 0 } rest && rest[0] != (byte)'}';
            return Splice(body, objectStart + 1, objectStart + 1, hasMembers ? [.. prefix, (byte)','] : prefix);
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static byte[] Quoted(string model)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(model);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Splice(byte[] body, int start, int end, ReadOnlySpan<byte> replacement) =>
        [.. body.AsSpan(0, start), .. replacement, .. body.AsSpan(end)];
}
