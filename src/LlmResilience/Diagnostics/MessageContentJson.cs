using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// The opt-in content attributes of the gen_ai conventions (<c>gen_ai.input.messages</c>, <c>gen_ai.output.messages</c>),
/// written by hand as the conventions' JSON: <c>[{"role":…,"parts":[{"type":"text","content":…}]}]</c>, tool calls as
/// <c>tool_call</c> parts (id, name, arguments), tool results as <c>tool_call_response</c> parts, images as <c>uri</c>
/// parts (a <c>data:</c> image as a <c>blob</c> part without its bytes). Used only when
/// <see cref="LlmClientOptions.RecordMessageContent"/> is on and a span is recorded.
/// </summary>
/// <remarks>
/// Chat Completions carries system instructions inside the conversation, so they stay in <c>gen_ai.input.messages</c>
/// (role <c>system</c> or <c>developer</c>), as the conventions ask for instructions that are part of the chat history.
/// </remarks>
internal static class MessageContentJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Input(IList<ChatMessage> messages) => Write(writer =>
    {
        writer.WriteStartArray();
        foreach (var message in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role", message.Role.Value);
            writer.WriteStartArray("parts");
            if (message.Role == ChatRole.Tool)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "tool_call_response");
                writer.WriteString("id", message.ToolCallId);
                writer.WriteString("response", message.Content);
                writer.WriteEndObject();
            }
            else
            {
                TextPart(writer, message.Content);
                if (message.ContentParts is { } parts)
                {
                    foreach (var part in parts)
                    {
                        ContentPart(writer, part);
                    }
                }

                ToolCalls(writer, message.ToolCalls as IReadOnlyList<ChatToolCall> ?? message.ToolCalls?.ToList());
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });

    public static string Output(IReadOnlyList<ChatChoice> choices) => Write(writer =>
    {
        writer.WriteStartArray();
        foreach (var choice in choices)
        {
            writer.WriteStartObject();
            writer.WriteString("role", choice.Message.Role.Value);
            writer.WriteStartArray("parts");
            TextPart(writer, choice.Message.Content);
            ToolCalls(writer, choice.Message.ToolCalls);
            writer.WriteEndArray();
            writer.WriteString("finish_reason", choice.FinishReason?.ToString() ?? string.Empty);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });

    /// <summary>A stream's answer: the text of choice 0 as it arrived (tool-call deltas are not reassembled here).</summary>
    public static string Output(string text, string? finishReason) => Write(writer =>
    {
        writer.WriteStartArray();
        writer.WriteStartObject();
        writer.WriteString("role", "assistant");
        writer.WriteStartArray("parts");
        TextPart(writer, text);
        writer.WriteEndArray();
        writer.WriteString("finish_reason", finishReason ?? string.Empty);
        writer.WriteEndObject();
        writer.WriteEndArray();
    });

    private static void TextPart(Utf8JsonWriter writer, string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            writer.WriteString("content", text);
            writer.WriteEndObject();
        }
    }

    private static void ContentPart(Utf8JsonWriter writer, ChatContentPart part)
    {
        if (part.TextContent is { } text)
        {
            TextPart(writer, text);
            return;
        }

        writer.WriteStartObject();
        if (part.Url is { } url && !url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            writer.WriteString("type", "uri");
            writer.WriteString("modality", "image");
            writer.WriteString("uri", url);
        }
        else
        {
            // An inline image (or a part of another type): its kind, never its bytes.
            writer.WriteString("type", "blob");
            writer.WriteString("modality", part.Url is null ? part.Type : "image");
        }

        writer.WriteEndObject();
    }

    private static void ToolCalls(Utf8JsonWriter writer, IReadOnlyList<ChatToolCall>? calls)
    {
        if (calls is null)
        {
            return;
        }

        foreach (var call in calls)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "tool_call");
            writer.WriteString("id", call.Id);
            writer.WriteString("name", call.FunctionCall.Name);
            writer.WritePropertyName("arguments");
            if (IsJson(call.FunctionCall.Arguments))
            {
                writer.WriteRawValue(call.FunctionCall.Arguments, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(call.FunctionCall.Arguments);
            }

            writer.WriteEndObject();
        }
    }

    private static bool IsJson(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
