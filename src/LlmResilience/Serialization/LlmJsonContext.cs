using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LlmResilience.Chat;

namespace LlmResilience;

/// <summary>
/// The source-generated JSON contract of the Chat Completions wire format: snake_case names, <see langword="null"/> properties left out,
/// unknown fields skipped. The only way this library reads or writes JSON; nothing goes through reflection.
/// </summary>
/// <remarks>
/// Polymorphic wire shapes have hand-written converters attached to their types: <see cref="ChatMessageConverter"/> (content as a
/// string or an array), <see cref="ChatContentPartConverter"/>, <see cref="ChatToolChoiceConverter"/> (a string or an object),
/// <see cref="ChatResponseFormatConverter"/>, <see cref="ChatRoleConverter"/> and <see cref="ChatFinishReasonConverter"/>
/// (a response keeps its roles and finish reasons as the strings <see cref="RoleStringConverter"/> and
/// <see cref="FinishReasonStringConverter"/> read). Error bodies are read without a contract, by
/// <see cref="OpenAiErrorBody"/>, because their shape varies by provider.
/// <para>
/// Read responses and chunks with <c>Default</c>; write requests with <see cref="Relaxed"/>, which leaves quotes, <c>+</c> and
/// non-ASCII text unescaped.
/// </para>
/// <para>
/// The response models' public properties are init-only, and the generator would build every object with an init-only JSON
/// property through its parameterized-constructor path, which boxes each number and allocates an argument state per object
/// (about a quarter more per streamed chunk). Their JSON members are therefore internal fields (or, on the tool-call types,
/// which requests write too, internal properties) marked <see cref="JsonIncludeAttribute"/>, and the public properties
/// <see cref="JsonIgnoreAttribute"/>.
/// </para>
/// </remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ChatToolCall))]
[JsonSerializable(typeof(ChatRole))]
[JsonSerializable(typeof(ChatFinishReason))]
internal sealed partial class LlmJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Gets a context with the same contract as <c>Default</c> whose writer escapes only what JSON requires. The default encoder
    /// writes every <c>"</c> in tool arguments and tool results as <c>\u0022</c>, every <c>+</c> of a base64 image as
    /// <c>\u002B</c> and every non-ASCII character as <c>\uXXXX</c>, which makes prompts in Chinese or Japanese twice as long on the wire.
    /// </summary>
    /// <remarks>
    /// "Unsafe" in <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> means it does not escape HTML-sensitive characters; a
    /// request body is never embedded in HTML, and the JSON stays valid.
    /// </remarks>
    public static LlmJsonContext Relaxed =>
        field ??= new LlmJsonContext(new JsonSerializerOptions(Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
