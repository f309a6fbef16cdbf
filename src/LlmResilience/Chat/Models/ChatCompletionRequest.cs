using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// A request to the Chat Completions endpoint (<c>POST /v1/chat/completions</c>). Properties left <see langword="null"/>
/// are not written, so the server applies its defaults.
/// </summary>
public sealed class ChatCompletionRequest
{
    /// <summary>Creates a request with no messages.</summary>
    public ChatCompletionRequest()
    {
    }

    /// <summary>Creates a request with the given messages.</summary>
    /// <param name="messages">The conversation so far, oldest first; copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="messages"/> holds a <see langword="null"/> message.</exception>
    public ChatCompletionRequest(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<ChatMessage>();
        foreach (var message in messages)
        {
            list.Add(message ?? throw new ArgumentException($"Message {list.Count} is null.", nameof(messages)));
        }

        Messages = list;
    }

    /// <summary>Gets or sets the model to use; <see langword="null"/> lets the client fill in its configured model.</summary>
    public string? Model { get; set; }

    /// <summary>Gets or sets the conversation so far, oldest first.</summary>
    /// <exception cref="ArgumentNullException">The value set is <see langword="null"/>.</exception>
    public IList<ChatMessage> Messages
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            field = value;
        }
    } = [];

    /// <summary>Gets or sets the sampling temperature, from 0 to 2; higher is more random.</summary>
    public float? Temperature { get; set; }

    /// <summary>Gets or sets nucleus sampling: the model considers the tokens of this top probability mass.</summary>
    public float? TopP { get; set; }

    /// <summary>Gets or sets the largest number of tokens to generate (<c>"max_tokens"</c>; deprecated by OpenAI for <see cref="MaxCompletionTokens"/>, still what most other servers read).</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Gets or sets the largest number of tokens to generate, reasoning tokens included; required instead of <see cref="MaxTokens"/> by OpenAI's reasoning models.</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>Gets or sets up to 4 sequences at which the model stops generating.</summary>
    public IList<string>? Stop { get; set; }

    /// <summary>Gets or sets a seed with which the server tries to sample deterministically (compare <see cref="ChatCompletion.SystemFingerprint"/>).</summary>
    public long? Seed { get; set; }

    /// <summary>Gets or sets how many choices to generate.</summary>
    public int? N { get; set; }

    /// <summary>Gets or sets a stable id of the end user, which helps the provider detect abuse.</summary>
    public string? User { get; set; }

    /// <summary>Gets or sets the penalty, from -2 to 2, on tokens that already appeared, which pushes the model towards new topics.</summary>
    public float? PresencePenalty { get; set; }

    /// <summary>Gets or sets the penalty, from -2 to 2, on tokens by how often they appeared, which reduces verbatim repetition.</summary>
    public float? FrequencyPenalty { get; set; }

    /// <summary>Gets or sets the tools the model may call.</summary>
    public IList<ChatTool>? Tools { get; set; }

    /// <summary>Gets or sets whether and which tool the model must call.</summary>
    public ChatToolChoice? ToolChoice { get; set; }

    /// <summary>Gets or sets whether the model may call several tools in one turn.</summary>
    public bool? ParallelToolCalls { get; set; }

    /// <summary>Gets or sets the format the model must answer in.</summary>
    public ChatResponseFormat? ResponseFormat { get; set; }

    /// <summary>Gets or sets how hard a reasoning model thinks: <c>"low"</c>, <c>"medium"</c> or <c>"high"</c> (some models also take <c>"minimal"</c>).</summary>
    public string? ReasoningEffort { get; set; }

    /// <summary>Gets or sets whether the server streams the answer as server-sent events; the client sets it.</summary>
    [JsonInclude]
    internal bool? Stream { get; set; }

    /// <summary>
    /// Gets or sets the options of a streamed completion. They are written only when the call streams, since OpenAI
    /// rejects <c>"stream_options"</c> on a request that does not, so one request object serves both kinds of call.
    /// </summary>
    [JsonIgnore]
    public ChatStreamOptions? StreamOptions { get; set; }

    // The wire's "stream_options": StreamOptions, but only when Stream is true (see StreamOptions).
    [JsonInclude]
    [JsonPropertyName("stream_options")]
    internal ChatStreamOptions? StreamOptionsWhenStreaming
    {
        get => Stream == true ? StreamOptions : null;
        set => StreamOptions = value;
    }

    /// <summary>Gets or sets the processing tier, for example <c>"auto"</c>, <c>"default"</c>, <c>"flex"</c> or <c>"priority"</c>.</summary>
    public string? ServiceTier { get; set; }

    /// <summary>Gets or sets whether OpenAI stores the completion for distillation and evals.</summary>
    public bool? Store { get; set; }

    /// <summary>Gets or sets up to 16 key-value pairs stored with the completion (with <see cref="Store"/>).</summary>
    public IDictionary<string, string>? Metadata { get; set; }

    /// <summary>
    /// Gets or sets extra fields written at the top level of the request as they are, for parameters this type does not
    /// model (for example vLLM's <c>"top_k"</c> or OpenAI's <c>"prediction"</c>). A key that a property above also writes
    /// makes the JSON hold it twice; do not repeat them.
    /// </summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
