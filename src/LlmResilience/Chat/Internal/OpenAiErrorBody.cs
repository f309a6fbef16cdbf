using System.Text;
using System.Text.Json;

namespace LlmResilience;

/// <summary>The error an OpenAI-compatible server described in a failed response's body.</summary>
/// <param name="Message">The human-readable message.</param>
/// <param name="Type">The error's type, for example <c>"invalid_request_error"</c> or <c>"insufficient_quota"</c>.</param>
/// <param name="Code">The error's code, for example <c>"rate_limit_exceeded"</c>; a numeric code (<c>"code":429</c>) as its digits.</param>
/// <param name="Param">The request parameter the error is about, for example <c>"messages"</c>.</param>
internal readonly record struct OpenAiError(string? Message, string? Type, string? Code, string? Param);

/// <summary>
/// Reads the error out of a failed response's body, in the shapes servers actually send:
/// <list type="bullet">
/// <item><description>OpenAI and most compatible servers: <c>{"error":{"message":…,"type":…,"param":…,"code":…}}</c>, the code a string or a number;</description></item>
/// <item><description>some gateways: <c>{"error":"some message"}</c>;</description></item>
/// <item><description>vLLM, Azure API Management and others: the fields at the top level, <c>{"message":…,"type":…,"code":…}</c>;</description></item>
/// <item><description>Gemini's OpenAI-compatible endpoint: the object wrapped in an array, <c>[{"error":{…,"status":"RESOURCE_EXHAUSTED"}}]</c>;</description></item>
/// <item><description>FastAPI-based servers: <c>{"detail":"…"}</c>.</description></item>
/// </list>
/// </summary>
/// <remarks>
/// Reads with <see cref="Utf8JsonReader"/>, without a document or a contract: the shape varies too much for one, and the body is
/// read once. Never throws: a body that is not JSON (an HTML error page, an empty or truncated body) gives <see langword="false"/>.
/// </remarks>
internal static class OpenAiErrorBody
{
    private static readonly JsonReaderOptions s_readerOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads the error out of a response body.</summary>
    /// <param name="utf8Body">The body as UTF-8 bytes.</param>
    /// <param name="error">The error; <see langword="default"/> when the result is <see langword="false"/>.</param>
    /// <returns><see langword="true"/> when the body is JSON that names a message, type or code.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8Body, out OpenAiError error)
    {
        try
        {
            return TryParseCore(utf8Body, out error);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // JsonException: malformed or truncated JSON. InvalidOperationException: a string that is not valid UTF-8.
            error = default;
            return false;
        }
    }

    private static bool TryParseCore(ReadOnlySpan<byte> utf8Body, out OpenAiError error)
    {
        error = default;
        if (utf8Body.StartsWith("\uFEFF"u8))
        {
            utf8Body = utf8Body[3..];
        }

        var reader = new Utf8JsonReader(utf8Body, s_readerOptions);
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.StartArray && !reader.Read())
        {
            return false;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        Fields nested = default;
        Fields top = default;
        string? detail = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        nested.Read(ref reader);
                    }
                }
                else
                {
                    nested.Message = ReadScalar(ref reader);
                }
            }
            else if (reader.ValueTextEquals("detail"u8))
            {
                reader.Read();
                detail = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip(ref reader);
            }
            else
            {
                top.Read(ref reader);
            }
        }

        // The closing brace must be there: a body cut off in the middle is not trusted.
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        var message = nested.Message ?? top.Message ?? detail;
        var type = nested.Type ?? nested.Status ?? top.Type;
        var code = nested.Code ?? top.Code;
        if (message is null && type is null && code is null)
        {
            return false;
        }

        error = new OpenAiError(message, type, code, nested.Param ?? top.Param);
        return true;
    }

    // A string as it is, a number (a code such as 429) as its digits; anything else as null.
    private static string? ReadScalar(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        _ => Skip(ref reader),
    };

    private static string? Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }

    private struct Fields
    {
        public string? Message;
        public string? Type;
        public string? Code;
        public string? Param;
        public string? Status;

        // Reads the value of the property the reader is on, keeping it when it is one of the error's fields.
        public void Read(ref Utf8JsonReader reader)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                Message = ReadScalar(ref reader);
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                Type = ReadScalar(ref reader);
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                Code = ReadScalar(ref reader);
            }
            else if (reader.ValueTextEquals("param"u8))
            {
                reader.Read();
                Param = ReadScalar(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                // Google's {"status":"RESOURCE_EXHAUSTED"} names the kind of error; Azure's numeric "status":400 does not.
                reader.Read();
                Status = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}
