using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// A fragment of a streamed tool call. The first fragment of a call carries <see cref="Index"/>, <see cref="Id"/>,
/// <see cref="Type"/> and the function's name; the later ones only <see cref="Index"/> and a piece of the arguments.
/// </summary>
public sealed class ChatToolCallDelta
{
    /// <summary>Gets or sets the position of the call this fragment belongs to, which ties the fragments of one call together.</summary>
    [JsonConverter(typeof(NullAsZeroInt32Converter))]
    public int Index { get; set; }

    /// <summary>Gets or sets the call's id, on its first fragment.</summary>
    public string? Id { get; set; }

    /// <summary>Gets or sets the call's type (<c>"function"</c>), on its first fragment.</summary>
    [JsonConverter(typeof(WellKnownStringConverter))]
    public string? Type { get; set; }

    /// <summary>Gets or sets the fragment of the function's name and arguments (the wire's <c>"function"</c>).</summary>
    [JsonPropertyName("function")]
    public ChatFunctionCallDelta? FunctionCall { get; set; }
}
