using System.Globalization;
using System.Text.RegularExpressions;

namespace Spherelet.Benchmarks;

/// <summary>
/// The measurements of the network benchmark, the same commands of the host's busybox in a pod
/// and in a network namespace: ICMP round trips (<c>ping -i 0.2</c>, each reply's <c>time=</c>),
/// and TCP throughput of <c>dd if=/dev/zero bs=64k | nc</c> into <see cref="ReceiverCommand"/>,
/// timed on the host's clock from the command's start to its end (the sending nc ends when the
/// receiver has read everything and closed), less the median time of an empty transfer.
/// </summary>
internal static partial class NetworkProbe
{
    public const int Port = 5001;

    /// <summary>A persistent TCP sink on <see cref="Port"/>: a dd into /dev/null for each connection.</summary>
    public static readonly string ReceiverCommand = $"busybox nc -ll -p {Port} -e busybox dd of=/dev/null bs=64k";

    private const int BlockBytes = 64 * 1024;

    /// <summary>About how long a timed transfer lasts, so that starting it weighs little.</summary>
    private const double TargetMs = 4000;

    /// <summary>1 GiB, the most a timed transfer sends.</summary>
    private const int MaxBlocks = 16384;

    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(5);

    /// <summary>ICMP round trips in ms from <paramref name="from"/> to <paramref name="address"/>, after two pings that warm the path up (ARP, flows).</summary>
    public static async Task<List<double>> PingAsync(IShellPlace from, string what, string address, int count, CancellationToken cancellationToken)
    {
        var warm = await from.RunAsync($"busybox ping -c 2 -W 10 {address}", TimeSpan.FromSeconds(60), cancellationToken);
        if (warm.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what}: no answer to ping {address} ({warm.ExitCode}): {warm.Output.Trim()} {warm.Error.Trim()}");
        }

        var result = await from.RunAsync($"busybox ping -c {count} -i 0.2 {address}", TimeSpan.FromSeconds(60 + count), cancellationToken);
        var rtts = RoundTrips(result.Output);
        if (rtts.Count == 0)
        {
            throw new InvalidOperationException($"{what}: no reply to ping {address} ({result.ExitCode}): {result.Output.Trim()} {result.Error.Trim()}");
        }

        if (rtts.Count < count)
        {
            await Console.Error.WriteLineAsync($"bench: {what}: {count - rtts.Count} of {count} pings to {address} got no reply");
        }

        return rtts;
    }

    /// <summary>The <c>time=X ms</c> of each reply line of busybox ping.</summary>
    public static List<double> RoundTrips(string pingOutput) =>
        TimePattern().Matches(pingOutput).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();

    /// <summary>
    /// Waits until the receiver at <paramref name="address"/> accepts, times empty transfers, sizes
    /// the timed transfers from a probe of <paramref name="probeBlocks"/> blocks of 64 KiB to last
    /// about four seconds, then makes <paramref name="transfers"/> of them.
    /// </summary>
    public static async Task<TcpThroughput> ThroughputAsync(
        IShellPlace from, string what, string address, int transfers, int probeBlocks, CancellationToken cancellationToken)
    {
        await WaitAcceptingAsync(from, what, address, cancellationToken);
        var empty = new List<double>();
        for (var i = 0; i < Math.Max(3, transfers); i++)
        {
            empty.Add(await TransferAsync(from, what, address, 0, cancellationToken));
        }

        var overhead = Stats.Median(empty);
        var probe = await TransferAsync(from, what, address, probeBlocks, cancellationToken);
        var bytesPerMs = (double)probeBlocks * BlockBytes / Math.Max(probe - overhead, 1);
        var blocks = (int)Math.Clamp(Math.Round(bytesPerMs * TargetMs / BlockBytes), probeBlocks, MaxBlocks);
        var bytes = (long)blocks * BlockBytes;
        var mbps = new List<double>();
        for (var i = 0; i < transfers; i++)
        {
            var ms = await TransferAsync(from, what, address, blocks, cancellationToken);
            mbps.Add(bytes * 8 / 1e6 / (Math.Max(ms - overhead, 1) / 1000));
        }

        return new TcpThroughput(mbps, empty, bytes);
    }

    /// <summary>How many host ms a guest ms lasts: <c>sleep 5</c> against <c>sleep 0</c> in the pod, each timed on the host, twice.</summary>
    public static async Task<double> GuestClockRateAsync(IShellPlace pod, CancellationToken cancellationToken)
    {
        var zero = new List<double>();
        var five = new List<double>();
        for (var i = 0; i < 2; i++)
        {
            zero.Add((await pod.RunAsync("busybox sleep 0", TimeSpan.FromSeconds(60), cancellationToken)).ElapsedMs);
            five.Add((await pod.RunAsync("busybox sleep 5", TimeSpan.FromSeconds(60), cancellationToken)).ElapsedMs);
        }

        return (Stats.Median(five) - Stats.Median(zero)) / 5000;
    }

    /// <summary>The receiver may still be starting (a container just started): empty transfers until one gets through.</summary>
    private static async Task WaitAcceptingAsync(IShellPlace from, string what, string address, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                await TransferAsync(from, what, address, 0, cancellationToken);
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, cancellationToken);
            }
        }
    }

    /// <summary>One transfer of <paramref name="blocks"/> blocks of 64 KiB, in ms on the host's clock; fails unless nc succeeded and dd wrote every block into it.</summary>
    private static async Task<double> TransferAsync(IShellPlace from, string what, string address, int blocks, CancellationToken cancellationToken)
    {
        var result = await from.RunAsync($"busybox dd if=/dev/zero bs=64k count={blocks} | busybox nc {address} {Port}", TransferTimeout, cancellationToken);
        if (result.ExitCode != 0 || !result.Error.Split('\n').Any(line => line.Trim() == $"{blocks}+0 records out"))
        {
            throw new InvalidOperationException(
                $"{what}: transfer of {blocks} x 64 KiB to {address}:{Port} failed ({result.ExitCode}): {result.Error.Trim()}");
        }

        return result.ElapsedMs;
    }

    [GeneratedRegex(@"time=([0-9]+(?:\.[0-9]+)?) ms")]
    private static partial Regex TimePattern();
}
