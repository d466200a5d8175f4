using System.Text;
using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// Terminals and attaching in a real pod VM: processes on a pseudo-terminal made by crun,
/// window-size changes, and host streams attached to and detached from running processes.
/// Needs qemu-system-x86_64 and the built guest (scripts/setup); one VM for the class.
/// </summary>
public sealed class GuestTerminalTests : IClassFixture<BootedGuest>
{
    private readonly BootedGuest _guest;

    public GuestTerminalTests(BootedGuest guest)
    {
        _guest = guest;
    }

    private CrxClient Crx => _guest.Crx;

    [Fact]
    public async Task Exec_with_a_tty_runs_on_a_terminal_and_resize_sets_its_window_size()
    {
        await CreateAsync("tty1", new Stdio(), "/bin/sleep", "600");
        await Crx.StartContainerAsync("tty1");

        var exec = await Crx.ExecAsync(new ExecProcess
        {
            ContainerId = "tty1",
            ExecId = "shell",
            OciProcess = ByteString.CopyFrom(OciSpecs.ExecProcess("/bin/sh", "-c", "tty; read go; stty size; [ -t 1 ] && echo on-a-terminal")),
            Stdio = new Stdio { Tty = true, Stdin = true },
        }, GuestCalls.Timeout());
        var output = new StringBuilder();
        await ReadUntilAsync(exec, output, "/dev/pts/");
        await exec.ResizeAsync(132, 43, GuestCalls.Timeout());
        await exec.WriteStdinAsync("go\n"u8.ToArray(), GuestCalls.Timeout());
        await ReadUntilAsync(exec, output, "on-a-terminal");
        var exit = await exec.Exited.WaitAsync(GuestCalls.Timeout());

        Assert.Equal(0, exit.ExitCode);
        // A terminal turns "\n" into "\r\n" and echoes what is typed.
        Assert.Contains("go\r\n43 132\r\non-a-terminal\r\n", output.ToString(), StringComparison.Ordinal);
        await Crx.RemoveContainerAsync("tty1");
    }

    [Fact]
    public async Task Container_on_a_tty_echoes_attached_stdin_logs_it_and_ends_on_end_of_file()
    {
        await CreateAsync("tty2", new Stdio { Tty = true, Stdin = true, Log = true }, "/bin/cat");
        await Crx.StartContainerAsync("tty2");

        var attached = await Crx.AttachAsync("tty2", string.Empty, GuestCalls.Timeout());
        await attached.WriteStdinAsync("hello\n"u8.ToArray(), GuestCalls.Timeout());
        var output = new StringBuilder();
        // The terminal echoes the line, then cat writes it back.
        await ReadUntilAsync(attached, output, "hello\r\nhello\r\n");
        await Crx.CallAsync(new Request { CloseStdin = new CloseStdin { ContainerId = "tty2" } }, GuestCalls.Timeout());
        var exit = await attached.Exited.WaitAsync(GuestCalls.Timeout());

        Assert.Equal(0, exit.ExitCode);
        var log = await GuestLogLines.ReadAsync(Crx, "tty2", TimeSpan.FromSeconds(60));
        Assert.Contains(log, line => line.EndsWith(" stdout F hello", StringComparison.Ordinal));
        var resize = await Assert.ThrowsAsync<CrxCallException>(() => Crx.CallAsync(
            new Request { Resize = new ResizeTerminal { ContainerId = "tty2", Width = 0, Height = 10 } }, GuestCalls.Timeout()));
        Assert.Equal(CrxProtocol.Codes.InvalidArgument, resize.Code);
        await Crx.RemoveContainerAsync("tty2");
    }

    [Fact]
    public async Task Detaching_stops_a_stream_and_a_new_attach_takes_over_stdin_and_output()
    {
        await CreateAsync("att1", new Stdio { Stdin = true }, "/bin/sh", "-c", "while read line; do echo \"got $line\"; done; echo done");
        await Crx.StartContainerAsync("att1");

        var first = await Crx.AttachAsync("att1", string.Empty, GuestCalls.Timeout());
        await first.WriteStdinAsync("one\n"u8.ToArray(), GuestCalls.Timeout());
        var firstOutput = new StringBuilder();
        await ReadUntilAsync(first, firstOutput, "got one\n");
        await first.DetachAsync(GuestCalls.Timeout());

        var second = await Crx.AttachAsync("att1", string.Empty, GuestCalls.Timeout());
        await second.WriteStdinAsync("two\n"u8.ToArray(), GuestCalls.Timeout());
        await Crx.CallAsync(new Request { CloseStdin = new CloseStdin { ContainerId = "att1" } }, GuestCalls.Timeout());
        var (stdout, _, exit) = await second.CollectAsync(GuestCalls.Timeout());

        Assert.Equal("got two\ndone\n", stdout);
        Assert.Equal(0, exit.ExitCode);
        Assert.Equal("got one\n", firstOutput.ToString());
        Assert.True(first.Output.Completion.IsCompleted, "the detached stream's output is complete");
        var resize = await Assert.ThrowsAsync<CrxCallException>(() => Crx.CallAsync(
            new Request { Resize = new ResizeTerminal { ContainerId = "att1", Width = 80, Height = 24 } }, GuestCalls.Timeout()));
        Assert.Equal(CrxProtocol.Codes.FailedPrecondition, resize.Code);
        var late = await Assert.ThrowsAsync<CrxCallException>(() => Crx.AttachAsync("att1", string.Empty, GuestCalls.Timeout()));
        Assert.Equal(CrxProtocol.Codes.FailedPrecondition, late.Code);
        await Crx.RemoveContainerAsync("att1");
    }

    [Fact]
    public async Task Stdin_once_closes_stdin_when_the_first_attach_ends()
    {
        await CreateAsync("once1", new Stdio { Stdin = true, StdinOnce = true }, "/bin/sh", "-c", "cat; echo stdin closed");
        await Crx.StartContainerAsync("once1");

        var attached = await Crx.AttachAsync("once1", string.Empty, GuestCalls.Timeout());
        await attached.WriteStdinAsync("data\n"u8.ToArray(), GuestCalls.Timeout());
        var output = new StringBuilder();
        await ReadUntilAsync(attached, output, "data\n");
        await attached.DetachAsync(GuestCalls.Timeout());
        var exit = await Crx.CallAsync(new Request { Wait = new WaitProcess { ContainerId = "once1" } }, GuestCalls.Timeout());

        Assert.Equal(0, exit.Exit.ExitCode);
        await Crx.RemoveContainerAsync("once1");
    }

    private static async Task ReadUntilAsync(CrxProcess process, StringBuilder output, string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!output.ToString().Contains(expected, StringComparison.Ordinal))
        {
            if (!await process.Output.WaitToReadAsync(timeout.Token))
            {
                break;
            }

            while (process.Output.TryRead(out var chunk))
            {
                output.Append(Encoding.UTF8.GetString(chunk.Data.Span));
            }
        }

        Assert.Contains(expected, output.ToString(), StringComparison.Ordinal);
    }

    private Task CreateAsync(string id, Stdio stdio, params string[] args) =>
        Crx.CallAsync(new Request
        {
            CreateContainer = new CreateContainer
            {
                ContainerId = id,
                Bundle = "/run/bundles/" + id,
                OciSpec = ByteString.CopyFrom(OciSpecs.Container(id, args)),
                Stdio = stdio,
            },
        }, GuestCalls.Timeout());
}
