namespace Spherelet.Benchmarks;

/// <summary>Options of the guest benchmark.</summary>
internal sealed record GuestBenchOptions(string Kernel, string Initramfs, string TrivialInitramfs, int Runs)
{
    public static GuestBenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        string Required(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"{name} is required");
        return new GuestBenchOptions(
            Required("--kernel"),
            Required("--initramfs"),
            Required("--trivial-initramfs"),
            values.TryGetValue("--runs", out var runs) ? int.Parse(runs, System.Globalization.CultureInfo.InvariantCulture) : 7);
    }
}
