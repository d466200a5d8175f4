using System.Text;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>CRX's side of container logs: output cut into CRI lines, kept in a bounded spool until the host acknowledges it.</summary>
public sealed class LogSpoolTests
{
    private const long At = 1_764_000_000_123_000_000;

    [Fact]
    public async Task Output_becomes_full_lines_per_stream_and_a_last_line_without_newline_is_kept_at_close()
    {
        var spool = new LogSpool(LogSpool.DefaultCapacityBytes, () => At);
        var lines = new CriLogLines(spool);

        lines.Write(StreamKind.Stdout, "hello\nwor"u8);
        lines.Write(StreamKind.Stderr, "bad\n"u8);
        lines.Write(StreamKind.Stdout, "ld\nno newline"u8);
        lines.Close(StreamKind.Stdout);
        spool.Complete();

        var (entries, end) = await spool.ReadAsync(0, long.MaxValue, CancellationToken.None);
        Assert.True(end);
        Assert.Equal(["hello", "bad", "world", "no newline"], entries.Select(e => e.Content.ToStringUtf8()));
        Assert.Equal([StreamKind.Stdout, StreamKind.Stderr, StreamKind.Stdout, StreamKind.Stdout], entries.Select(e => e.Stream));
        Assert.Equal([1UL, 2, 3, 4], entries.Select(e => e.Sequence));
        // One clock reading for all: the times still increase strictly, so the host can tell them apart.
        Assert.Equal([At, At + 1, At + 2, At + 3], entries.Select(e => e.TimeUnixNanos));
    }

    [Fact]
    public async Task A_long_line_is_cut_into_partial_parts_and_a_full_last_one()
    {
        var spool = new LogSpool(LogSpool.DefaultCapacityBytes);
        var line = new string('x', (CriLogLines.MaxLineBytes * 2) + 10);

        new CriLogLines(spool).Write(StreamKind.Stdout, Encoding.ASCII.GetBytes(line + "\n"));

        var (entries, _) = await spool.ReadAsync(0, long.MaxValue, CancellationToken.None);
        Assert.Equal([true, true, false], entries.Select(e => e.Partial));
        Assert.Equal(line, string.Concat(entries.Select(e => e.Content.ToStringUtf8())));
    }

    [Fact]
    public async Task Reads_respect_the_byte_limit_and_acknowledged_entries_are_dropped_while_the_rest_are_sent_again_to_a_new_follower()
    {
        var spool = new LogSpool(LogSpool.DefaultCapacityBytes);
        for (var i = 0; i < 10; i++)
        {
            spool.Append(StreamKind.Stdout, false, Encoding.ASCII.GetBytes($"line {i:D2}"));
        }

        var (first, end) = await spool.ReadAsync(0, 20, CancellationToken.None);
        Assert.False(end);
        Assert.Equal(["line 00", "line 01"], first.Select(e => e.Content.ToStringUtf8()));
        Assert.Equal(14, spool.BytesThrough(first[^1].Sequence));

        spool.Acknowledge(first[^1].Sequence);
        var (again, _) = await spool.ReadAsync(0, long.MaxValue, CancellationToken.None);
        Assert.Equal(Enumerable.Range(2, 8).Select(i => $"line {i:D2}"), again.Select(e => e.Content.ToStringUtf8()));
        Assert.Equal(8 * 7, spool.Bytes);
    }

    [Fact]
    public async Task A_reader_waits_for_output_and_gets_the_end_once_everything_was_read()
    {
        var spool = new LogSpool(LogSpool.DefaultCapacityBytes);
        var waiting = spool.ReadAsync(0, long.MaxValue, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        spool.Append(StreamKind.Stdout, false, "late"u8);
        var (entries, end) = await waiting;
        spool.Complete();
        var (rest, over) = await spool.ReadAsync(entries[^1].Sequence, long.MaxValue, CancellationToken.None);

        Assert.Equal("late", Assert.Single(entries).Content.ToStringUtf8());
        Assert.False(end);
        Assert.Empty(rest);
        Assert.True(over);
    }

    [Fact]
    public async Task A_full_spool_drops_the_oldest_output_and_one_entry_in_its_place_says_how_many_bytes()
    {
        var spool = new LogSpool(4 * CriLogLines.MaxLineBytes);
        var line = new byte[1000];
        for (var i = 0; i < 100; i++)
        {
            line.AsSpan().Fill((byte)('a' + (i % 26)));
            spool.Append(StreamKind.Stdout, false, line);
        }

        var (entries, _) = await spool.ReadAsync(0, long.MaxValue, CancellationToken.None);
        Assert.True(spool.Bytes <= spool.CapacityBytes);
        var marker = entries[0];
        Assert.Equal(StreamKind.Stderr, marker.Stream);
        var dropped = 100 - (entries.Count - 1);
        Assert.Contains($"{dropped * 1000} bytes of output dropped", marker.Content.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal((ulong)dropped, marker.Sequence);
        Assert.Equal(Enumerable.Range(dropped + 1, 100 - dropped).Select(i => (ulong)i), entries.Skip(1).Select(e => e.Sequence));
        Assert.Single(entries, e => e.Stream == StreamKind.Stderr);
    }

    [Fact]
    public void The_host_writes_cri_lines_and_reads_the_time_of_the_last_whole_line_back()
    {
        var entry = new GuestLogEntry(7, At + 456_789, Stderr: true, Partial: true, "part"u8.ToArray());

        var line = Encoding.ASCII.GetString(CriLogFormat.Line(entry));

        Assert.Equal("2025-11-24T16:00:00.123456789Z stderr P part\n", line);
        Assert.Equal(At + 456_789, CriLogFormat.ParseTimestamp("2025-11-24T16:00:00.123456789Z"));
        Assert.Equal(At + 456_789, CriLogFormat.LastTime(Encoding.ASCII.GetBytes("2025-11-24T16:00:00.000000001Z stdout F a\n" + line + "2025-11-24T17:00:00.0000")));
        Assert.Null(CriLogFormat.LastTime([]));
        Assert.Null(CriLogFormat.ParseTimestamp("yesterday"));
    }
}
