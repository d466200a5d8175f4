using System.Globalization;

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
        string[] known = ["--daemon", "--kernel", "--initramfs", "--runs", "--transfers", "--mib"];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!known.Contains(args[i], StringComparer.Ordinal))
            {
                throw new ArgumentException($"unknown option '{args[i]}'");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"{args[i]} needs a value");
            }

            values[args[i]] = args[i + 1];
        }

        string Required(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"{name} is required");
        int Count(string name, int fallback, int minimum, int maximum)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
                ? value
                : throw new ArgumentException($"{name} must be a whole number from {minimum} to {maximum}, not '{text}'");
        }

        return new StreamingBenchOptions(
            Required("--daemon"), Required("--kernel"), Required("--initramfs"),
            Count("--runs", 20, 2, 10000), Count("--transfers", 3, 1, 1000), Count("--mib", 32, 1, 4096));
    }
}
