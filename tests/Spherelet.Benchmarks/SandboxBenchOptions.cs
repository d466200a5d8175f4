namespace Spherelet.Benchmarks;

/// <summary>Options of the sandbox benchmark.</summary>
internal sealed record SandboxBenchOptions(string Daemon, string Kernel, string Initramfs, int Runs, int Parallel)
{
    public static SandboxBenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        string Required(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"{name} is required");
        int Number(string name, int fallback) =>
            values.TryGetValue(name, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        return new SandboxBenchOptions(Required("--daemon"), Required("--kernel"), Required("--initramfs"), Math.Max(1, Number("--runs", 10)), Math.Max(2, Number("--parallel", 5)));
    }
}
