namespace LlmResilience.Testing;

/// <summary>Splits assistant text into the word-sized deltas a stream sends, and counts words as tokens.</summary>
internal static class ContentPieces
{
    /// <summary>
    /// Splits <paramref name="content"/> into pieces that each start with their leading whitespace, so that the pieces
    /// concatenate back to the content: <c>"Hello from FakeLlmServer."</c> gives <c>"Hello"</c>, <c>" from"</c>, <c>" FakeLlmServer."</c>.
    /// </summary>
    public static IReadOnlyList<string> Split(string content)
    {
        var pieces = new List<string>();
        var start = 0;
        var i = 0;
        while (i < content.Length)
        {
            // Skip the whitespace that belongs to the next piece, then the word itself.
            while (i < content.Length && char.IsWhiteSpace(content[i]))
            {
                i++;
            }

            while (i < content.Length && !char.IsWhiteSpace(content[i]))
            {
                i++;
            }

            pieces.Add(content[start..i]);
            start = i;
        }

        return pieces;
    }

    /// <summary>
    /// The first <paramref name="count"/> pieces of <paramref name="content"/>, its words repeated (with a space between
    /// repetitions) when more are needed, so a stream fault can send any number of content events.
    /// </summary>
    public static IReadOnlyList<string> Take(string content, int count)
    {
        var source = Split(content);
        if (source.Count == 0)
        {
            source = ["text"];
        }

        var pieces = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var piece = source[i % source.Count];
            if (i >= source.Count && i % source.Count == 0)
            {
                piece = " " + piece.TrimStart();
            }

            pieces.Add(piece);
        }

        return pieces;
    }

    /// <summary>Counts whitespace-separated words: the fake server's token count.</summary>
    public static int CountWords(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
