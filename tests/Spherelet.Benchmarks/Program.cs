namespace Spherelet.Benchmarks;

/// <summary>
/// <c>Spherelet.Benchmarks AREA [options]</c>: runs one benchmark, prints a table and a
/// last line <c>result: key=value ...</c>. Called by <c>scripts/bench AREA</c>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync("usage: Spherelet.Benchmarks startup --daemon PATH --empty PATH [--runs N] | guest --kernel K --initramfs I --trivial-initramfs T [--runs N] | sandbox --daemon PATH --kernel K --initramfs I [--runs N] [--parallel N] | images --daemon PATH [--runs N] [--layers N] [--layer-mib N]");
            return 2;
        }

        switch (args[0])
        {
            case "startup":
                await StartupBenchmark.RunAsync(BenchOptions.Parse(args.Skip(1).ToArray()), Console.Out);
                return 0;
            case "guest":
                await GuestBenchmark.RunAsync(GuestBenchOptions.Parse(args.Skip(1).ToArray()), Console.Out);
                return 0;
            case "images":
                await ImagesBenchmark.RunAsync(ImagesBenchOptions.Parse(args.Skip(1).ToArray()), Console.Out);
                return 0;
            case "sandbox":
                await SandboxBenchmark.RunAsync(SandboxBenchOptions.Parse(args.Skip(1).ToArray()), Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync($"unknown benchmark area '{args[0]}'; known: startup, guest, sandbox, images");
                return 2;
        }
    }
}
