namespace Spherelet.Benchmarks;

/// <summary>Options shared by the benchmark areas.</summary>
internal sealed record BenchOptions(string Daemon, string Empty, int Runs)
{
    public static BenchOptions Parse(string[] args)
    {
        string? daemon = null;
        string? empty = null;
        var runs = 15;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--daemon":
                    daemon = args[i + 1];
                    break;
                case "--empty":
                    empty = args[i + 1];
                    break;
                case "--runs":
                    runs = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new BenchOptions(
            daemon ?? throw new ArgumentException("--daemon is required"),
            empty ?? throw new ArgumentException("--empty is required"),
            runs);
    }
}
