using Spherelet.Domain.Node;

namespace Spherelet.Tests.Domain;

public sealed class HostTscTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sph-tsc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_kernels_own_tsc_frequency_wins_over_cpuinfo()
    {
        var sys = Path.Combine(_dir, "tsc_freq_khz");
        var cpuinfo = Path.Combine(_dir, "cpuinfo");
        File.WriteAllText(sys, "2899999\n");
        File.WriteAllText(cpuinfo, "processor\t: 0\ncpu MHz\t\t: 2419.200\n");

        Assert.Equal(2899999, HostTsc.Khz(sys, cpuinfo));
    }

    [Fact]
    public void Without_it_the_first_cpus_mhz_is_taken_and_without_either_it_is_unknown()
    {
        var cpuinfo = Path.Combine(_dir, "cpuinfo");
        File.WriteAllText(cpuinfo, "processor\t: 0\ncpu MHz\t\t: 2419.200\nprocessor\t: 1\ncpu MHz\t\t: 1000.000\n");

        Assert.Equal(2419200, HostTsc.Khz(Path.Combine(_dir, "none"), cpuinfo));
        Assert.Equal(0, HostTsc.Khz(Path.Combine(_dir, "none"), Path.Combine(_dir, "none")));
    }
}
