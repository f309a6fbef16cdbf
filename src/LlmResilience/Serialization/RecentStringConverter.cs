using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmResilience;

/// <summary>
/// Reads strings that repeat from one chunk (or one call) to the next, but are not known in advance, as shared instances:
/// a stream's completion id and model name and system fingerprint come again in every chunk, one chunk per token.
/// A small process-wide table remembers recently read values by the hash of their UTF-8 bytes; a hit returns the
/// remembered string, a miss reads the string as usual and remembers it.
/// </summary>
/// <remarks>
/// Bounded: <see cref="Slots"/> entries of at most <see cref="MaxBytes"/> bytes each; a colliding value simply replaces the
/// entry. Thread-safe without locks: entries are immutable and a slot is one reference. Escaped or split values are
/// read as usual and not remembered.
/// </remarks>
internal sealed class RecentStringConverter : JsonConverter<string>
{
    internal const int Slots = 256;
    internal const int MaxBytes = 96;

    private static readonly Entry?[] s_slots = new Entry?[Slots];

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxBytes)
        {
            return reader.GetString();
        }

        var utf8 = reader.ValueSpan;
        ref var slot = ref s_slots[SlotOf(utf8)];
        if (Volatile.Read(ref slot) is { } entry && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Value;
        }

        var value = reader.GetString()!;
        Volatile.Write(ref slot, new Entry(utf8.ToArray(), value));
        return value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    /// <summary>The slot a value's UTF-8 bytes go to (two values of one chunk with the same slot evict each other).</summary>
    internal static int SlotOf(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return (int)((uint)hash.ToHashCode() % Slots);
    }

    private sealed class Entry(byte[] utf8, string value)
    {
        public byte[] Utf8 { get; } = utf8;
        public string Value { get; } = value;
    }
}
