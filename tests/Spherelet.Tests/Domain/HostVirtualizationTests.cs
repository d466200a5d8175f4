using Spherelet.Domain.Node;

namespace Spherelet.Tests.Domain;

/// <summary>KVM is used only where it comes with hardware virtualization.</summary>
public sealed class HostVirtualizationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sph-kvm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false, null, false)]
    [InlineData(true, null, false)]
    [InlineData(true, "kvm_pvm", false)]
    [InlineData(true, "kvm_intel", true)]
    [InlineData(true, "kvm_amd", true)]
    [InlineData(false, "kvm_intel", false)]
    public void Kvm_is_usable_only_with_the_device_and_a_hardware_module(bool device, string? module, bool usable)
    {
        var path = Path.Combine(_dir, "kvm");
        var modules = Directory.CreateDirectory(Path.Combine(_dir, "module")).FullName;
        if (device)
        {
            File.WriteAllText(path, string.Empty);
        }

        if (module is not null)
        {
            Directory.CreateDirectory(Path.Combine(modules, module));
        }

        Assert.Equal(usable, HostVirtualization.KvmUsableWith(path, modules));
        if (!usable)
        {
            Assert.Contains(device ? "neither kvm_intel nor kvm_amd" : "no ", HostVirtualization.TcgReason(path, modules), StringComparison.Ordinal);
        }
    }
}
