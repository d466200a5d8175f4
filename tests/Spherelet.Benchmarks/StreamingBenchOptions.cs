namespace Spherelet.Benchmarks;

/// <summary>
/// Options of the streaming benchmark: <c>--runs</c> is the number of timed execs of each kind
/// (streaming and ExecSync, interleaved), <c>--transfers</c> the number of timed port-forward
/// transfers, <c>--mib</c> the size of each. An unknown option, a missing value or a count out of
/// range is an <see cref="ArgumentException"/>.
/// </summary>
internal sealed record StreamingBenchOptions(string Daemon, string Kernel, string Initramfs, int Runs, int Transfers, int Mib)
{
    public const string Usage =
        "streaming --daemon PATH --kernel K --initramfs I [--runs N (execs of each kind, >= 2, default 20)] [--transfers N (>= 1, default 3)] [--mib N (per transfer, >= 1, default 32)]";

    public static StreamingBenchOptions Parse(string[] args)
    {
        var a = BenchArguments.Parse(args, "--daemon", "--kernel", "--initramfs", "--runs", "--transfers", "--mib");
        return new StreamingBenchOptions(
            a.Required("--daemon"), a.Required("--kernel"), a.Required("--initramfs"),
            a.Count("--runs", 20, 2, 10000), a.Count("--transfers", 3, 1, 1000), a.Count("--mib", 32, 1, 4096));
    }
}
