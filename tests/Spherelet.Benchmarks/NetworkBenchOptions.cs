using System.Globalization;

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
        string[] known = ["--daemon", "--kernel", "--initramfs", "--runs", "--transfers"];
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
        int Count(string name, int fallback, int minimum)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
                ? value
                : throw new ArgumentException($"{name} must be a whole number of at least {minimum}, not '{text}'");
        }

        return new NetworkBenchOptions(
            Required("--daemon"), Required("--kernel"), Required("--initramfs"), Count("--runs", 20, 2), Count("--transfers", 3, 1));
    }
}
