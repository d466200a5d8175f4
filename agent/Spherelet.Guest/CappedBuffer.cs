using System.Buffers;
using System.Globalization;
using System.Text;

namespace Spherelet.Guest;

/// <summary>Keeps the first <c>limit</c> bytes written to it; what is dropped beyond is counted and said at the end.</summary>
public sealed class CappedBuffer
{
    private readonly ArrayBufferWriter<byte> _kept = new();
    private readonly int _limit;
    private long _dropped;

    public CappedBuffer(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _limit = limit;
    }

    public long Dropped => _dropped;

    public void Append(ReadOnlySpan<byte> data)
    {
        var room = Math.Min(_limit - _kept.WrittenCount, data.Length);
        if (room > 0)
        {
            _kept.Write(data[..room]);
        }

        _dropped += data.Length - Math.Max(room, 0);
    }

    /// <summary>The bytes kept, followed by a marker line when some were dropped.</summary>
    public byte[] ToArray()
    {
        if (_dropped == 0)
        {
            return _kept.WrittenSpan.ToArray();
        }

        var marker = Encoding.UTF8.GetBytes(string.Format(CultureInfo.InvariantCulture, "\n[spherelet: output truncated: {0} bytes kept, {1} bytes dropped]\n", _kept.WrittenCount, _dropped));
        return [.. _kept.WrittenSpan, .. marker];
    }
}
