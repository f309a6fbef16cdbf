using System.Text.Json;

namespace LlmResilience;

/// <summary>An OpenAI error object.</summary>
internal readonly record struct OpenAiError(string? Message, string? Type, string? Code, string? Param);

/// <summary>Parses OpenAI error bodies (temporary minimal version; replaced by the full parser).</summary>
internal static class OpenAiErrorBody
{
    public static bool TryParse(ReadOnlySpan<byte> utf8Body, out OpenAiError error)
    {
        error = default;
        try
        {
            var reader = new Utf8JsonReader(utf8Body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var e) || e.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            error = new OpenAiError(Get(e, "message"), Get(e, "type"), Get(e, "code"), Get(e, "param"));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? Get(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null } : null;
}
