using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>One answer of a <see cref="ChatCompletion"/>.</summary>
public sealed class ChatChoice
{
    /// <summary>Gets or sets the choice's position among <see cref="ChatCompletion.Choices"/>.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int Index { get; set; }

    /// <summary>Gets or sets the message the model wrote.</summary>
    public ChatResponseMessage Message { get => field ??= new ChatResponseMessage(); set; }

    /// <summary>
    /// Gets or sets why the model stopped: <c>"stop"</c> (a natural end or a stop sequence), <c>"length"</c> (the token limit),
    /// <c>"tool_calls"</c>, <c>"content_filter"</c>; or <see langword="null"/>.
    /// </summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? FinishReason { get; set; }
}
