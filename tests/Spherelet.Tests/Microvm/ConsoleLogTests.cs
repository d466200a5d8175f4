using System.Net.Sockets;
using Spherelet.Microvm;

namespace Spherelet.Tests.Microvm;

public sealed class ConsoleLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sph-console-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_flooded_console_costs_the_host_three_files_of_at_most_2_MiB_and_keeps_the_newest_output()
    {
        var socketPath = Path.Combine(_dir, "console.sock");
        var logPath = Path.Combine(_dir, "console.log");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);

        await using (var console = await ConsoleLog.StartAsync(socketPath, logPath, CancellationToken.None))
        {
            using var qemu = await listener.AcceptAsync();
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'x');
            for (var i = 0; i < 120; i++)
            {
                await qemu.SendAsync(chunk, SocketFlags.None);
            }

            await qemu.SendAsync("the last line\n"u8.ToArray(), SocketFlags.None);
            qemu.Shutdown(SocketShutdown.Send);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.ReadAllText(logPath).EndsWith("the last line\n", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }

        var files = Directory.GetFiles(_dir, "console.log*").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["console.log", "console.log.1", "console.log.2"], files.Select(Path.GetFileName));
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= ConsoleLog.MaxFileBytes, $"{f}: {new FileInfo(f).Length} bytes"));
        Assert.EndsWith("the last line\n", File.ReadAllText(logPath), StringComparison.Ordinal);
    }
}
