using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

public sealed class CriLogWriterTests : IDisposable
{
    private static readonly DateTime At = new(2026, 11, 24, 5, 0, 0, 123, DateTimeKind.Utc);
    private readonly string _dir = Directory.CreateTempSubdirectory("crx-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Lines_are_written_in_the_cri_format_with_stream_and_full_tag()
    {
        var path = Path.Combine(_dir, "c.log");
        using (var log = new CriLogWriter(path, () => At))
        {
            log.Write("stdout", "hello\nwor"u8);
            log.Write("stderr", "bad\n"u8);
            log.Write("stdout", "ld\nno newline"u8);
            log.Close("stdout");
        }

        Assert.Equal(
        [
            "2026-11-24T05:00:00.123000000Z stdout F hello",
            "2026-11-24T05:00:00.123000000Z stderr F bad",
            "2026-11-24T05:00:00.123000000Z stdout F world",
            "2026-11-24T05:00:00.123000000Z stdout F no newline",
        ], File.ReadAllLines(path));
    }

    [Fact]
    public void Long_lines_are_split_into_partial_parts_then_a_full_one()
    {
        var path = Path.Combine(_dir, "long.log");
        var line = new string('x', CriLogWriter.MaxLineBytes * 2 + 10);
        using (var log = new CriLogWriter(path, () => At))
        {
            log.Write("stdout", System.Text.Encoding.ASCII.GetBytes(line + "\n"));
        }

        var lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("2026-11-24T05:00:00.123000000Z stdout P ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("2026-11-24T05:00:00.123000000Z stdout P ", lines[1], StringComparison.Ordinal);
        Assert.Equal("2026-11-24T05:00:00.123000000Z stdout F " + new string('x', 10), lines[2]);
        Assert.Equal(line, string.Concat(lines.Select(l => l[40..])));
    }

    [Fact]
    public void Reopen_sends_the_next_lines_to_a_fresh_file()
    {
        var path = Path.Combine(_dir, "rotated.log");
        using var log = new CriLogWriter(path, () => At);
        log.Write("stdout", "before\n"u8);
        File.Move(path, path + ".1");

        log.Reopen();
        log.Write("stdout", "after\n"u8);

        Assert.EndsWith("stdout F before", File.ReadAllText(path + ".1").TrimEnd(), StringComparison.Ordinal);
        Assert.EndsWith("stdout F after", File.ReadAllText(path).TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_command_line_settings_are_read()
    {
        var settings = Spherelet.Crx.Guest.GuestSettings.FromCommandLine("console=ttyS0 spherelet.channel=io.x.1 spherelet.share=pod spherelet.log=debug quiet");

        Assert.Equal("io.x.1", settings.ChannelName);
        Assert.Equal("pod", settings.ShareTag);
        Assert.True(settings.Debug);
    }
}
