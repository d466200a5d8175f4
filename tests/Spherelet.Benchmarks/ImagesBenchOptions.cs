namespace Spherelet.Benchmarks;

/// <summary>Options of the images benchmark.</summary>
internal sealed record ImagesBenchOptions(string Daemon, int Runs, int LayerMiB, int Layers)
{
    public static ImagesBenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        int Number(string name, int fallback) =>
            values.TryGetValue(name, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        return new ImagesBenchOptions(
            values.TryGetValue("--daemon", out var daemon) ? daemon : throw new ArgumentException("--daemon is required"),
            Math.Max(1, Number("--runs", 3)),
            Math.Max(1, Number("--layer-mib", 25)),
            Math.Max(1, Number("--layers", 4)));
    }
}
