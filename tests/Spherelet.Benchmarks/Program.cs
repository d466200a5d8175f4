namespace Spherelet.Benchmarks;

/// <summary>
/// <c>Spherelet.Benchmarks AREA [options]</c>: runs one benchmark, prints a table and a
/// last line <c>result: key=value ...</c>. Called by <c>scripts/bench AREA</c>. Exit code 2
/// for a bad command line, with the usage.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: Spherelet.Benchmarks startup --daemon PATH --empty PATH [--runs N] | guest --kernel K --initramfs I --trivial-initramfs T [--runs N] | " +
        "sandbox --daemon PATH --kernel K --initramfs I [--runs N] [--parallel N] | images --daemon PATH [--runs N] [--layers N] [--layer-mib N] | " +
        ContainersBenchOptions.Usage + " | " + NetworkBenchOptions.Usage + " | " + StreamingBenchOptions.Usage;

    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        if (args.Contains("--help", StringComparer.Ordinal) || args.Contains("-h", StringComparer.Ordinal))
        {
            await Console.Out.WriteLineAsync(Usage);
            return 0;
        }

        var rest = args.Skip(1).ToArray();
        Func<TextWriter, Task>? benchmark;
        try
        {
            benchmark = args[0] switch
            {
                "startup" => Prepare(BenchOptions.Parse(rest), StartupBenchmark.RunAsync),
                "guest" => Prepare(GuestBenchOptions.Parse(rest), GuestBenchmark.RunAsync),
                "images" => Prepare(ImagesBenchOptions.Parse(rest), ImagesBenchmark.RunAsync),
                "sandbox" => Prepare(SandboxBenchOptions.Parse(rest), SandboxBenchmark.RunAsync),
                "containers" => Prepare(ContainersBenchOptions.Parse(rest), ContainersBenchmark.RunAsync),
                "network" => Prepare(NetworkBenchOptions.Parse(rest), NetworkBenchmark.RunAsync),
                "streaming" => Prepare(StreamingBenchOptions.Parse(rest), StreamingBenchmark.RunAsync),
                _ => null,
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await Console.Error.WriteLineAsync($"{args[0]}: {e.Message}\n{Usage}");
            return 2;
        }

        if (benchmark is null)
        {
            await Console.Error.WriteLineAsync($"unknown benchmark area '{args[0]}'; known: startup, guest, sandbox, images, containers, network, streaming");
            return 2;
        }

        await benchmark(Console.Out);
        return 0;
    }

    /// <summary>The benchmark with its options parsed (a bad command line fails here, before anything starts).</summary>
    private static Func<TextWriter, Task> Prepare<TOptions>(TOptions options, Func<TOptions, TextWriter, Task> run) =>
        output => run(options, output);
}
