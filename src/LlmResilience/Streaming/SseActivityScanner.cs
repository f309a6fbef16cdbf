namespace LlmResilience;

/// <summary>
/// Watches the bytes of a <c>text/event-stream</c> go by and tells whether they carry data (any field line) or
/// only comments (lines starting with <c>:</c>, such as <c>: keep-alive</c>), and when an event is complete
/// (a blank line after field lines). It copies nothing and allocates nothing; the vectorized line search keeps it
/// cheap enough to run on every read. State carries across reads, so a line split between two reads is handled.
/// </summary>
internal struct SseActivityScanner
{
    private bool _midLine;
    private bool _lineIsField;
    private bool _eventHasFields;
    private bool _afterCarriageReturn;

    /// <summary>Scans the next bytes of the stream.</summary>
    /// <param name="chunk">The bytes just read.</param>
    /// <param name="sawData">Set when a field (non-comment) line has bytes in <paramref name="chunk"/>.</param>
    /// <returns>Whether at least one event with fields was completed in <paramref name="chunk"/>.</returns>
    public bool Scan(ReadOnlySpan<byte> chunk, out bool sawData)
    {
        sawData = false;
        var completed = false;
        var i = 0;
        while (i < chunk.Length)
        {
            if (!_midLine)
            {
                var first = chunk[i];
                if (first == (byte)'\n' && _afterCarriageReturn)
                {
                    // The LF of a CRLF that ended the previous line.
                    _afterCarriageReturn = false;
                    i++;
                    continue;
                }

                _afterCarriageReturn = first == (byte)'\r';
                if (first is (byte)'\n' or (byte)'\r')
                {
                    // A blank line dispatches the event.
                    completed |= _eventHasFields;
                    _eventHasFields = false;
                    i++;
                    continue;
                }

                _midLine = true;
                _lineIsField = first != (byte)':';
                _eventHasFields |= _lineIsField;
            }

            sawData |= _lineIsField;
            var end = chunk[i..].IndexOfAny((byte)'\n', (byte)'\r');
            if (end < 0)
            {
                return completed;
            }

            i += end;
            _afterCarriageReturn = chunk[i] == (byte)'\r';
            _midLine = false;
            i++;
        }

        return completed;
    }
}
