using System.Buffers;

namespace LlmResilience;

/// <summary>
/// The text a stream has delivered so far, kept for <see cref="LlmException.PartialContent"/> should the stream break.
/// Its characters live in a buffer rented from <see cref="ArrayPool{T}"/>, so a stream that completes (the common
/// case) allocates nothing for it; only a broken stream turns it into a string. Dispose returns the buffer.
/// </summary>
/// <remarks>A mutable struct: keep it in a local or a field and never copy it.</remarks>
internal struct PartialText : IDisposable
{
    private const int InitialCapacity = 1024;

    private char[]? _buffer;
    private int _length;

    public readonly int Length => _length;

    public void Append(string text)
    {
        if (_buffer is null || _buffer.Length - _length < text.Length)
        {
            Grow(text.Length);
        }

        text.CopyTo(0, _buffer!, _length, text.Length);
        _length += text.Length;
    }

    public override readonly string ToString() => _buffer is null ? string.Empty : new string(_buffer, 0, _length);

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _length = 0;
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private void Grow(int needed)
    {
        var capacity = Math.Max(InitialCapacity, Math.Max(_length + needed, (_buffer?.Length ?? 0) * 2));
        var larger = ArrayPool<char>.Shared.Rent(capacity);
        if (_buffer is { } old)
        {
            old.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<char>.Shared.Return(old);
        }

        _buffer = larger;
    }
}
