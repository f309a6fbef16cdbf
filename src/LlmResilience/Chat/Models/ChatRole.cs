using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// The author of a <see cref="ChatMessage"/>: <c>system</c>, <c>developer</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>,
/// or any other role an OpenAI-compatible server accepts. Serialized as a plain JSON string.
/// </summary>
/// <remarks>Roles compare case-insensitively, as servers treat them.</remarks>
[JsonConverter(typeof(ChatRoleConverter))]
public readonly struct ChatRole : IEquatable<ChatRole>
{
    private readonly string? _value;

    /// <summary>Creates a role from its wire name.</summary>
    /// <param name="value">The role as the server names it, for example <c>"user"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is <see langword="null"/>, empty or white space.</exception>
    public ChatRole(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        _value = value;
    }

    // For a value the JSON converters already checked, or one taken from another role (empty for default); not checked again.
    private ChatRole(string value, bool _) => _value = value;

    /// <summary>Gets the role that sets the model's behaviour (<c>"system"</c>).</summary>
    public static ChatRole System { get; } = new("system");

    /// <summary>Gets the role of instructions from the developer, which reasoning models prefer to <see cref="System"/> (<c>"developer"</c>).</summary>
    public static ChatRole Developer { get; } = new("developer");

    /// <summary>Gets the role of the end user (<c>"user"</c>).</summary>
    public static ChatRole User { get; } = new("user");

    /// <summary>Gets the role of the model (<c>"assistant"</c>).</summary>
    public static ChatRole Assistant { get; } = new("assistant");

    /// <summary>Gets the role of a tool's result (<c>"tool"</c>).</summary>
    public static ChatRole Tool { get; } = new("tool");

    /// <summary>Gets the role's wire name; empty for <see langword="default"/>.</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>Returns whether two roles are equal, ignoring case.</summary>
    /// <param name="left">The first role.</param>
    /// <param name="right">The second role.</param>
    /// <returns><see langword="true"/> when the roles have the same name.</returns>
    public static bool operator ==(ChatRole left, ChatRole right) => left.Equals(right);

    /// <summary>Returns whether two roles differ, ignoring case.</summary>
    /// <param name="left">The first role.</param>
    /// <param name="right">The second role.</param>
    /// <returns><see langword="true"/> when the roles have different names.</returns>
    public static bool operator !=(ChatRole left, ChatRole right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(ChatRole other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ChatRole other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    /// <summary>Returns the role's wire name.</summary>
    /// <returns>The value of <see cref="Value"/>.</returns>
    public override string ToString() => Value;

    /// <summary>Wraps the string a response model keeps (see <see cref="RoleStringConverter"/>).</summary>
    internal static ChatRole FromWire(string value) => new(value, false);
}
