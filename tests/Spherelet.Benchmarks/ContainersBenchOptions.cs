using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>Options of the containers benchmark; an unknown option, a missing value or a count out of range is an <see cref="ArgumentException"/>.</summary>
internal sealed record ContainersBenchOptions(string Daemon, string Kernel, string Initramfs, int Runs, int Parallel)
{
    public const string Usage = "containers --daemon PATH --kernel K --initramfs I [--runs N (>= 1, default 10)] [--parallel N (>= 2, default 5)]";

    public static ContainersBenchOptions Parse(string[] args)
    {
        string[] known = ["--daemon", "--kernel", "--initramfs", "--runs", "--parallel"];
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

        return new ContainersBenchOptions(
            Required("--daemon"), Required("--kernel"), Required("--initramfs"), Count("--runs", 10, 1), Count("--parallel", 5, 2));
    }
}
