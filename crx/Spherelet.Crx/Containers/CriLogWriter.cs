using System.Globalization;
using System.Text;

namespace Spherelet.Crx.Containers;

/// <summary>
/// Writes a container's output in the kubelet's CRI log format, one line per output line:
/// <c>2026-11-24T05:00:00.123456789Z stdout F message</c>. A line longer than
/// <see cref="MaxLineBytes"/> is cut into parts tagged P, the last one F. Output that ends
/// without a newline is written as an F line when the stream closes.
/// </summary>
internal sealed class CriLogWriter : IDisposable
{
    public const int MaxLineBytes = 16 * 1024;

    private readonly string _path;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, MemoryStream> _partial = new(StringComparer.Ordinal);
    private readonly Func<DateTime> _clock;
    private FileStream? _file;

    public CriLogWriter(string path, Func<DateTime>? clock = null)
    {
        _path = path;
        _clock = clock ?? (() => DateTime.UtcNow);
        _file = Open(path);
    }

    /// <summary>Takes bytes read from a stream ("stdout" or "stderr") and writes every complete line.</summary>
    public void Write(string stream, ReadOnlySpan<byte> data)
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
                    Emit(stream, 'F', pending);
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
                    Emit(stream, 'P', pending);
                    data = data[room..];
                }
            }

            _file?.Flush();
        }
    }

    /// <summary>The stream ended: a last line without newline is written as a full line.</summary>
    public void Close(string stream)
    {
        lock (_gate)
        {
            if (_partial.TryGetValue(stream, out var pending) && pending.Length > 0)
            {
                Emit(stream, 'F', pending);
                _file?.Flush();
            }
        }
    }

    /// <summary>Closes the file and opens the path again (the kubelet rotated the log).</summary>
    public void Reopen()
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = Open(_path);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
        }
    }

    private static FileStream Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
    }

    private void Emit(string stream, char tag, MemoryStream pending)
    {
        var prefix = Encoding.ASCII.GetBytes(
            _clock().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture) + $" {stream} {tag} ");
        _file?.Write(prefix);
        _file?.Write(pending.GetBuffer().AsSpan(0, (int)pending.Length));
        _file?.WriteByte((byte)'\n');
        pending.SetLength(0);
    }
}
