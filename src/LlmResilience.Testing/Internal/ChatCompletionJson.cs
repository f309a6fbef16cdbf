using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmResilience.Testing;

/// <summary>The identity shared by a completion and all chunks of one stream.</summary>
internal readonly record struct CompletionIdentity(string Id, long Created, string Model);

/// <summary>Token counts of one completion (the fake counts words).</summary>
internal readonly record struct TokenUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// Writes chat-completion JSON field for field as the real API sends it, so the official OpenAI SDK parses it.
/// Written by hand with <see cref="Utf8JsonWriter"/>: no reflection serialization, and the field order is the API's.
/// </summary>
internal static class ChatCompletionJson
{
    // The API sends raw UTF-8, not \uXXXX escapes for every non-ASCII character.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The answer to <c>GET /v1/models</c>: a list with the server's one model.</summary>
    public static byte[] ModelList(string model, long created) => Write(writer =>
    {
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        writer.WriteStartObject();
        writer.WriteString("id", model);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", created);
        writer.WriteString("owned_by", "fake-llm-server");
        writer.WriteEndObject();
        writer.WriteEndArray();
    });

    /// <summary>A whole <c>chat.completion</c> object.</summary>
    public static byte[] Completion(CompletionIdentity identity, string content, TokenUsage usage) => Write(writer =>
    {
        WriteHeader(writer, identity, "chat.completion");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        writer.WriteString("content", content);
        writer.WriteNull("refusal");
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", "stop");
        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, usage);
    });

    /// <summary>
    /// A <c>chat.completion.chunk</c> with one choice. <paramref name="role"/> is sent only on a stream's first chunk, with
    /// <c>"refusal":null</c> as the API does; a <see langword="null"/> <paramref name="content"/> leaves the delta empty
    /// (the finish chunk). <paramref name="usageNull"/> adds <c>"usage":null</c>, which the API puts on every chunk of a stream
    /// that asked for <c>include_usage</c>.
    /// </summary>
    public static byte[] Chunk(CompletionIdentity identity, string? role, string? content, string? finishReason, bool usageNull) =>
        ChunkOf(identity, finishReason, usageNull, writer =>
        {
            if (role is not null)
            {
                writer.WriteString("role", role);
            }

            if (content is not null)
            {
                writer.WriteString("content", content);
            }

            if (role is not null)
            {
                writer.WriteNull("refusal");
            }
        });

    /// <summary>A whole <c>chat.completion</c> whose message calls tools: <c>"content":null</c>, <c>"finish_reason":"tool_calls"</c>.</summary>
    public static byte[] ToolCallCompletion(CompletionIdentity identity, IReadOnlyList<(string Id, string Name, string Arguments)> calls, TokenUsage usage) => Write(writer =>
    {
        WriteHeader(writer, identity, "chat.completion");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        writer.WriteNull("content");
        writer.WriteStartArray("tool_calls");
        foreach (var (id, name, arguments) in calls)
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", name);
            writer.WriteString("arguments", arguments);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteNull("refusal");
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", "tool_calls");
        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, usage);
    });

    /// <summary>
    /// A <c>chat.completion.chunk</c> with one tool-call fragment: <c>{"index":…,"id":…,"type":"function","function":{"name":…,"arguments":…}}</c>
    /// on a call's first fragment, <c>{"index":…,"function":{"arguments":…}}</c> on the later ones.
    /// </summary>
    public static byte[] ToolCallChunk(CompletionIdentity identity, string? role, int index, string? id, string? name, string arguments, bool usageNull) =>
        ChunkOf(identity, finishReason: null, usageNull, writer =>
        {
            if (role is not null)
            {
                writer.WriteString("role", role);
                writer.WriteNull("content");
            }

            writer.WriteStartArray("tool_calls");
            writer.WriteStartObject();
            writer.WriteNumber("index", index);
            if (id is not null)
            {
                writer.WriteString("id", id);
                writer.WriteString("type", "function");
            }

            writer.WriteStartObject("function");
            if (name is not null)
            {
                writer.WriteString("name", name);
            }

            writer.WriteString("arguments", arguments);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            if (role is not null)
            {
                writer.WriteNull("refusal");
            }
        });

    /// <summary>The last chunk of a stream that asked for <c>include_usage</c>: no choices, only usage.</summary>
    public static byte[] UsageChunk(CompletionIdentity identity, TokenUsage usage) => Write(writer =>
    {
        WriteHeader(writer, identity, "chat.completion.chunk");
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        WriteUsage(writer, usage);
    });

    /// <summary>An OpenAI error body: <c>{"error":{"message":…,"type":…,"param":…,"code":…}}</c>.</summary>
    public static byte[] Error(string message, string type, string? param, string? code) => Write(writer =>
    {
        writer.WriteStartObject("error");
        writer.WriteString("message", message);
        writer.WriteString("type", type);
        WriteNullableString(writer, "param", param);
        WriteNullableString(writer, "code", code);
        writer.WriteEndObject();
    });

    /// <summary>A chunk with one choice (index 0) whose delta <paramref name="delta"/> writes.</summary>
    private static byte[] ChunkOf(CompletionIdentity identity, string? finishReason, bool usageNull, Action<Utf8JsonWriter> delta) => Write(writer =>
    {
        WriteHeader(writer, identity, "chat.completion.chunk");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        delta(writer);
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        WriteNullableString(writer, "finish_reason", finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (usageNull)
        {
            writer.WriteNull("usage");
        }
    });

    private static void WriteHeader(Utf8JsonWriter writer, CompletionIdentity identity, string objectType)
    {
        writer.WriteString("id", identity.Id);
        writer.WriteString("object", objectType);
        writer.WriteNumber("created", identity.Created);
        writer.WriteString("model", identity.Model);
        writer.WriteString("system_fingerprint", FakeLlmServerConstants.SystemFingerprint);
    }

    private static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("completion_tokens", usage.CompletionTokens);
        writer.WriteNumber("total_tokens", usage.TotalTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", 0);
        writer.WriteNumber("audio_tokens", 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", 0);
        writer.WriteNumber("audio_tokens", 0);
        writer.WriteNumber("accepted_prediction_tokens", 0);
        writer.WriteNumber("rejected_prediction_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
