using System.Text;

namespace LlmResilience.Chat;

/// <summary>
/// Combines the fragments of streamed tool calls (<see cref="ChatMessageDelta.ToolCalls"/>) into complete <see cref="ChatToolCall"/>s.
/// </summary>
/// <remarks>
/// <para>
/// OpenAI sends a call's index, id, type and name on its first fragment and then pieces of the arguments under the same index;
/// parallel calls interleave by index. Some OpenAI-compatible servers send each call whole, always under index 0; a fragment
/// whose id differs from the id of the call collected under its index therefore starts a new call.
/// </para>
/// <para>Not thread-safe: feed it the chunks of one stream, in order.</para>
/// </remarks>
/// <example>
/// <code>
/// var toolCalls = new ChatToolCallAccumulator();
/// await foreach (var chunk in client.StreamAsync(request))
/// {
///     toolCalls.Append(chunk);
/// }
///
/// IReadOnlyList&lt;ChatToolCall&gt; calls = toolCalls.Build();
/// </code>
/// </example>
public sealed class ChatToolCallAccumulator
{
    private readonly int _choiceIndex;
    private readonly List<Call> _calls = [];

    /// <summary>Creates an accumulator of the tool calls of the first choice.</summary>
    public ChatToolCallAccumulator()
        : this(choiceIndex: 0)
    {
    }

    /// <summary>Creates an accumulator of the tool calls of one choice, for a request with <see cref="ChatCompletionRequest.N"/> above 1.</summary>
    /// <param name="choiceIndex">The <see cref="ChatChunkChoice.Index"/> whose tool calls to collect.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="choiceIndex"/> is negative.</exception>
    public ChatToolCallAccumulator(int choiceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(choiceIndex);
        _choiceIndex = choiceIndex;
    }

    /// <summary>Gets the number of tool calls begun so far.</summary>
    public int Count => _calls.Count;

    /// <summary>Adds the tool-call fragments of a chunk; a chunk without any is ignored.</summary>
    /// <param name="chunk">The next chunk of the stream.</param>
    /// <exception cref="ArgumentNullException"><paramref name="chunk"/> is <see langword="null"/>.</exception>
    public void Append(ChatCompletionChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var choices = chunk.Choices;
        for (var i = 0; i < choices.Count; i++)
        {
            var choice = choices[i];
            if (choice.Index != _choiceIndex || choice.Delta.ToolCalls is not { } deltas)
            {
                continue;
            }

            for (var j = 0; j < deltas.Count; j++)
            {
                Append(deltas[j]);
            }
        }
    }

    /// <summary>Creates the tool calls collected so far, in the order they began.</summary>
    /// <returns>A new list of the calls; empty when the stream called no tool. A call whose arguments never arrived has empty arguments.</returns>
    public IReadOnlyList<ChatToolCall> Build()
    {
        if (_calls.Count == 0)
        {
            return [];
        }

        var result = new ChatToolCall[_calls.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var call = _calls[i];
            result[i] = new ChatToolCall
            {
                Id = call.Id ?? string.Empty,
                Type = call.Type ?? ChatToolCall.FunctionType,
                FunctionCall = new ChatFunctionCall { Name = call.Name ?? string.Empty, Arguments = call.Arguments.ToString() },
            };
        }

        return result;
    }

    private void Append(ChatToolCallDelta delta)
    {
        if (delta is null)
        {
            return;
        }

        var call = FindLatest(delta.Index);
        if (call is null || (!string.IsNullOrEmpty(delta.Id) && !string.IsNullOrEmpty(call.Id) && !string.Equals(delta.Id, call.Id, StringComparison.Ordinal)))
        {
            call = new Call(delta.Index);
            _calls.Add(call);
        }

        if (!string.IsNullOrEmpty(delta.Id))
        {
            call.Id = delta.Id;
        }

        if (!string.IsNullOrEmpty(delta.Type))
        {
            call.Type = delta.Type;
        }

        if (delta.FunctionCall is { } function)
        {
            // The name comes whole on the first fragment; some servers repeat it on later ones, so it is not concatenated.
            if (string.IsNullOrEmpty(call.Name) && !string.IsNullOrEmpty(function.Name))
            {
                call.Name = function.Name;
            }

            if (!string.IsNullOrEmpty(function.Arguments))
            {
                call.Arguments.Append(function.Arguments);
            }
        }
    }

    private Call? FindLatest(int index)
    {
        for (var i = _calls.Count - 1; i >= 0; i--)
        {
            if (_calls[i].Index == index)
            {
                return _calls[i];
            }
        }

        return null;
    }

    private sealed class Call(int index)
    {
        public int Index { get; } = index;

        public string? Id { get; set; }

        public string? Type { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
