namespace Spherelet.Benchmarks;

/// <summary>Options of the containers benchmark; an unknown option, a missing value or a count out of range is an <see cref="ArgumentException"/>.</summary>
/// <param name="PvhKernel">The same kernel as a PVH ELF, for the microvm backend's pods and plain boots.</param>
internal sealed record ContainersBenchOptions(string Daemon, string Kernel, string PvhKernel, string Initramfs, int Runs, int Parallel)
{
    public const string Usage = "containers --daemon PATH --kernel K --pvh-kernel K --initramfs I [--runs N (>= 1, default 10)] [--parallel N (>= 2, default 5)]";

    public static ContainersBenchOptions Parse(string[] args)
    {
        var a = BenchArguments.Parse(args, "--daemon", "--kernel", "--pvh-kernel", "--initramfs", "--runs", "--parallel");
        return new ContainersBenchOptions(
            a.Required("--daemon"), a.Required("--kernel"), a.Required("--pvh-kernel"), a.Required("--initramfs"), a.Count("--runs", 10, 1), a.Count("--parallel", 5, 2));
    }
}
