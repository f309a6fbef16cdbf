using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience.Chat;

/// <summary>
/// The format the model must answer in: <see cref="Text"/> (<c>{"type":"text"}</c>), <see cref="JsonObject"/> (<c>{"type":"json_object"}</c>)
/// or a JSON schema (<c>{"type":"json_schema","json_schema":{…}}</c>, structured outputs) created with <see cref="JsonSchema"/>.
/// </summary>
[JsonConverter(typeof(ChatResponseFormatConverter))]
public sealed class ChatResponseFormat
{
    internal const string TextType = "text";
    internal const string JsonObjectType = "json_object";
    internal const string JsonSchemaType = "json_schema";

    internal ChatResponseFormat(string type, string? schemaName = null, JsonElement? schema = null, bool? strict = null, string? description = null)
    {
        Type = type;
        SchemaName = schemaName;
        Schema = schema;
        Strict = strict;
        Description = description;
    }

    /// <summary>Gets the format of plain text, the default.</summary>
    public static ChatResponseFormat Text { get; } = new(TextType);

    /// <summary>Gets the format of any valid JSON object (JSON mode). The prompt must still ask for JSON.</summary>
    public static ChatResponseFormat JsonObject { get; } = new(JsonObjectType);

    /// <summary>Gets the format's type: <c>"text"</c>, <c>"json_object"</c> or <c>"json_schema"</c>.</summary>
    public string Type { get; }

    /// <summary>Gets the schema's name for <c>"json_schema"</c>; otherwise <see langword="null"/>.</summary>
    public string? SchemaName { get; }

    /// <summary>Gets the JSON schema the answer must follow for <c>"json_schema"</c>; otherwise <see langword="null"/>.</summary>
    public JsonElement? Schema { get; }

    /// <summary>Gets whether the model must follow <see cref="Schema"/> exactly; <see langword="null"/> leaves it to the server.</summary>
    public bool? Strict { get; }

    /// <summary>Gets what the answer is for, which the model reads; <see langword="null"/> for none.</summary>
    public string? Description { get; }

    /// <summary>Creates the format of JSON that follows a schema (structured outputs).</summary>
    /// <param name="name">The schema's name (letters, digits, <c>_</c> and <c>-</c>, at most 64 characters).</param>
    /// <param name="schema">The JSON schema, an object.</param>
    /// <param name="strict">Whether the model must follow the schema exactly.</param>
    /// <param name="description">What the answer is for.</param>
    /// <returns>A format of type <c>"json_schema"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space, or <paramref name="schema"/> is not a JSON object.</exception>
    public static ChatResponseFormat JsonSchema(string name, JsonElement schema, bool? strict = null, string? description = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"The schema must be a JSON object, not {schema.ValueKind}.", nameof(schema));
        }

        // Detaches the schema from a JsonDocument the caller may dispose; free when it is already detached.
        return new ChatResponseFormat(JsonSchemaType, name, schema.Clone(), strict, description);
    }

    /// <summary>Returns the format's type, and the schema's name for a schema format.</summary>
    /// <returns>For example <c>"json_object"</c> or <c>"json_schema:weather"</c>.</returns>
    public override string ToString() => SchemaName is null ? Type : $"{Type}:{SchemaName}";
}
