using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Containers;

/// <summary>
/// Cuts a container's output into CRI log lines and puts them in its <see cref="LogSpool"/>: a
/// line longer than <see cref="MaxLineBytes"/> becomes parts marked partial, the last one full.
/// Output that ends without a newline becomes a full line when its stream closes.
/// </summary>
internal sealed class CriLogLines
{
    public const int MaxLineBytes = 16 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<StreamKind, MemoryStream> _partial = [];

    public CriLogLines(LogSpool spool)
    {
        Spool = spool;
    }

    public LogSpool Spool { get; }

    /// <summary>Takes bytes read from a stream (stdout or stderr) and spools every complete line.</summary>
    public void Write(StreamKind stream, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (!_partial.TryGetValue(stream, out var pending))
            {
                pending = new MemoryStream();
                _partial[stream] = pending;
            }

            while (!data.IsEmpty)
            {
                var newline = data.IndexOf((byte)'\n');
                var room = MaxLineBytes - (int)pending.Length;
                if (newline >= 0 && newline <= room)
                {
                    pending.Write(data[..newline]);
                    Emit(stream, partial: false, pending);
                    data = data[(newline + 1)..];
                }
                else if (newline < 0 && data.Length <= room)
                {
                    pending.Write(data);
                    data = [];
                }
                else
                {
                    pending.Write(data[..room]);
                    Emit(stream, partial: true, pending);
                    data = data[room..];
                }
            }
        }
    }

    /// <summary>The stream ended: a last line without newline is spooled as a full line.</summary>
    public void Close(StreamKind stream)
    {
        lock (_gate)
        {
            if (_partial.TryGetValue(stream, out var pending) && pending.Length > 0)
            {
                Emit(stream, partial: false, pending);
            }
        }
    }

    private void Emit(StreamKind stream, bool partial, MemoryStream pending)
    {
        Spool.Append(stream, partial, pending.GetBuffer().AsSpan(0, (int)pending.Length));
        pending.SetLength(0);
    }
}
