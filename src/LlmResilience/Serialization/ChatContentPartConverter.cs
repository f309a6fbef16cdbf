using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// Writes a <see cref="ChatContentPart"/> as <c>{"type":"text","text":…}</c> or
/// <c>{"type":"image_url","image_url":{"url":…,"detail":…}}</c>, and reads both back.
/// </summary>
internal sealed class ChatContentPartConverter : JsonConverter<ChatContentPart>
{
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText s_text = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText s_imageUrl = JsonEncodedText.Encode("image_url");
    private static readonly JsonEncodedText s_url = JsonEncodedText.Encode("url");
    private static readonly JsonEncodedText s_detail = JsonEncodedText.Encode("detail");

    public override ChatContentPart Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPart(ref reader);

    public override void Write(Utf8JsonWriter writer, ChatContentPart value, JsonSerializerOptions options) => WritePart(writer, value);

    internal static void WritePart(Utf8JsonWriter writer, ChatContentPart part)
    {
        writer.WriteStartObject();
        writer.WriteString(s_type, part.Type);
        if (part.TextContent is { } text)
        {
            writer.WriteString(s_text, text);
        }

        if (part.Url is { } url)
        {
            writer.WriteStartObject(s_imageUrl);
            writer.WriteString(s_url, url);
            if (part.Detail is { } detail)
            {
                writer.WriteString(s_detail, detail);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    internal static ChatContentPart ReadPart(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A content part must be a JSON object, not {reader.TokenType}.");
        }

        string? type = null, text = null, url = null, detail = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_type.EncodedUtf8Bytes))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals(s_text.EncodedUtf8Bytes))
            {
                reader.Read();
                text = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals(s_imageUrl.EncodedUtf8Bytes))
            {
                reader.Read();
                ReadImageUrl(ref reader, ref url, ref detail);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        type ??= text is not null ? ChatContentPart.TextType
            : url is not null ? ChatContentPart.ImageUrlType
            : throw new JsonException("A content part has no \"type\".");

        return type switch
        {
            ChatContentPart.TextType => new ChatContentPart(ChatContentPart.TextType, text ?? string.Empty, url: null, detail: null),
            ChatContentPart.ImageUrlType => new ChatContentPart(ChatContentPart.ImageUrlType, textContent: null, url ?? string.Empty, detail),
            _ => new ChatContentPart(type, textContent: null, url: null, detail: null),
        };
    }

    private static void ReadImageUrl(ref Utf8JsonReader reader, ref string? url, ref string? detail)
    {
        // The API's shape is {"url":…,"detail":…}; some clients send the URL as a bare string.
        if (reader.TokenType == JsonTokenType.String)
        {
            url = reader.GetString();
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_url.EncodedUtf8Bytes))
            {
                reader.Read();
                url = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals(s_detail.EncodedUtf8Bytes))
            {
                reader.Read();
                detail = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipValue(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static string? SkipValue(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
