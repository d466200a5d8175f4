namespace Spherelet.Benchmarks;

/// <summary>
/// Options of the network benchmark: <c>--runs</c> is the number of pings per pair, <c>--transfers</c>
/// the number of timed TCP transfers per pair. An unknown option, a missing value or a count out of
/// range is an <see cref="ArgumentException"/>.
/// </summary>
internal sealed record NetworkBenchOptions(string Daemon, string Kernel, string Initramfs, int Runs, int Transfers)
{
    public const string Usage = "network --daemon PATH --kernel K --initramfs I [--runs N (pings per pair, >= 2, default 20)] [--transfers N (>= 1, default 3)]";

    public static NetworkBenchOptions Parse(string[] args)
    {
        var a = BenchArguments.Parse(args, "--daemon", "--kernel", "--initramfs", "--runs", "--transfers");
        return new NetworkBenchOptions(
            a.Required("--daemon"), a.Required("--kernel"), a.Required("--initramfs"), a.Count("--runs", 20, 2), a.Count("--transfers", 3, 1));
    }
}
