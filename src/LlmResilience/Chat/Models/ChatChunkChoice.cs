using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>The fragment of one choice in a <see cref="ChatCompletionChunk"/>.</summary>
public sealed class ChatChunkChoice
{
    /// <summary>Gets or sets the choice this fragment belongs to.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int Index { get; set; }

    /// <summary>Gets or sets what this chunk adds to the choice's message.</summary>
    public ChatMessageDelta Delta { get => field ??= new ChatMessageDelta(); set; }

    /// <summary>Gets or sets why the choice ended, on its last chunk (<c>"stop"</c>, <c>"length"</c>, <c>"tool_calls"</c>, <c>"content_filter"</c>); otherwise <see langword="null"/>.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? FinishReason { get; set; }
}
