using Spherelet.Agent.Virtualization;

namespace Spherelet.Tests.Virtualization;

public sealed class HostMemoryTests
{
    [Fact]
    public void MemTotal_is_read_in_MiB()
    {
        Assert.Equal(24014, HostMemory.Parse("MemTotal:       24590928 kB\nMemFree:        22118680 kB\n"));
    }

    [Fact]
    public void Without_MemTotal_the_host_memory_is_0()
    {
        Assert.Equal(0, HostMemory.Parse("MemFree: 1 kB\n"));
    }

    [Fact]
    public void This_host_has_some_memory()
    {
        Assert.True(HostMemory.TotalMiB() > 0);
    }
}
