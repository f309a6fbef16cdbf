using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// A message of a chat-completion request: a role with text (<see cref="Content"/>) or parts (<see cref="ContentParts"/>),
/// and on assistant and tool messages the tool calls and their results.
/// </summary>
/// <remarks>
/// <para>
/// On the wire <c>"content"</c> is a string when <see cref="Content"/> is set and an array when <see cref="ContentParts"/> is set;
/// when both are set, <see cref="ContentParts"/> wins. An assistant message without content (one that only calls tools) is
/// written with <c>"content":null</c>, which every OpenAI-compatible server accepts.
/// </para>
/// <para>Use the factories (<see cref="User(string)"/>, <see cref="Tool(string, string)"/>, …) for the common shapes.</para>
/// </remarks>
[JsonConverter(typeof(ChatMessageConverter))]
public sealed class ChatMessage
{
    /// <summary>Creates a message with the given role and no content.</summary>
    /// <param name="role">The author of the message.</param>
    /// <exception cref="ArgumentException"><paramref name="role"/> is <see langword="default"/>.</exception>
    public ChatMessage(ChatRole role)
    {
        if (string.IsNullOrEmpty(role.Value))
        {
            throw new ArgumentException("The role must be set; use ChatRole.User, ChatRole.Assistant or another named role.", nameof(role));
        }

        Role = role;
    }

    /// <summary>Creates a message with the given role and text.</summary>
    /// <param name="role">The author of the message.</param>
    /// <param name="content">The text of the message.</param>
    /// <exception cref="ArgumentException"><paramref name="role"/> is <see langword="default"/>.</exception>
    public ChatMessage(ChatRole role, string? content)
        : this(role)
    {
        Content = content;
    }

    /// <summary>Gets the author of the message.</summary>
    public ChatRole Role { get; }

    /// <summary>Gets the text of the message, written as a JSON string.</summary>
    public string? Content { get; init; }

    /// <summary>Gets the parts of a multi-part message (text and images), written as a JSON array; takes precedence over <see cref="Content"/>.</summary>
    public IList<ChatContentPart>? ContentParts { get; init; }

    /// <summary>Gets an optional name that tells participants of the same role apart.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the tools an assistant message called. An empty list is not written (servers reject <c>"tool_calls":[]</c>).</summary>
    public IList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>Gets the id of the tool call a tool message answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>Gets the refusal an assistant message carried, when the model declined to answer.</summary>
    public string? Refusal { get; init; }

    /// <summary>Creates a system message.</summary>
    /// <param name="content">The instructions.</param>
    /// <returns>A message with role <c>"system"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="content"/> is <see langword="null"/>.</exception>
    public static ChatMessage System(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new ChatMessage(ChatRole.System, content);
    }

    /// <summary>Creates a developer message, the form of system instructions that reasoning models expect.</summary>
    /// <param name="content">The instructions.</param>
    /// <returns>A message with role <c>"developer"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="content"/> is <see langword="null"/>.</exception>
    public static ChatMessage Developer(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new ChatMessage(ChatRole.Developer, content);
    }

    /// <summary>Creates a user message with text.</summary>
    /// <param name="content">The text.</param>
    /// <returns>A message with role <c>"user"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="content"/> is <see langword="null"/>.</exception>
    public static ChatMessage User(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new ChatMessage(ChatRole.User, content);
    }

    /// <summary>Creates a user message from parts (text and images).</summary>
    /// <param name="parts">The parts, in order; at least one.</param>
    /// <returns>A message with role <c>"user"</c> whose content is written as an array.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty or holds a <see langword="null"/> part.</exception>
    public static ChatMessage User(params ChatContentPart[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
        {
            throw new ArgumentException("A user message needs at least one content part.", nameof(parts));
        }

        var list = new List<ChatContentPart>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            list.Add(parts[i] ?? throw new ArgumentException($"Content part {i} is null.", nameof(parts)));
        }

        return new ChatMessage(ChatRole.User) { ContentParts = list };
    }

    /// <summary>Creates an assistant message with text, for example to replay an earlier answer.</summary>
    /// <param name="content">The text.</param>
    /// <returns>A message with role <c>"assistant"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="content"/> is <see langword="null"/>.</exception>
    public static ChatMessage Assistant(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new ChatMessage(ChatRole.Assistant, content);
    }

    /// <summary>Creates an assistant message that called tools, to replay before the tools' results.</summary>
    /// <param name="toolCalls">The tool calls the model made; at least one.</param>
    /// <returns>A message with role <c>"assistant"</c>, no content and the tool calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="toolCalls"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="toolCalls"/> is empty or holds a <see langword="null"/> call.</exception>
    public static ChatMessage Assistant(IEnumerable<ChatToolCall> toolCalls)
    {
        ArgumentNullException.ThrowIfNull(toolCalls);
        var list = new List<ChatToolCall>();
        foreach (var call in toolCalls)
        {
            list.Add(call ?? throw new ArgumentException($"Tool call {list.Count} is null.", nameof(toolCalls)));
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("An assistant message with tool calls needs at least one call.", nameof(toolCalls));
        }

        return new ChatMessage(ChatRole.Assistant) { ToolCalls = list };
    }

    /// <summary>Creates a tool message: the result of one tool call.</summary>
    /// <param name="toolCallId">The <see cref="ChatToolCall.Id"/> of the call this answers.</param>
    /// <param name="content">The tool's result, usually JSON.</param>
    /// <returns>A message with role <c>"tool"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="toolCallId"/> or <paramref name="content"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="toolCallId"/> is empty or white space.</exception>
    public static ChatMessage Tool(string toolCallId, string content)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(toolCallId);
        ArgumentNullException.ThrowIfNull(content);
        return new ChatMessage(ChatRole.Tool, content) { ToolCallId = toolCallId };
    }
}
