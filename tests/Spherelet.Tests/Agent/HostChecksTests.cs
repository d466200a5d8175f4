using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Agent.Checks;
using Spherelet.Agent.Options;
using Spherelet.Libvirt.Vmm;

namespace Spherelet.Tests.Agent;

public sealed class HostChecksTests
{
    private static readonly string[] MicrovmChecks = ["guest-pvh-kernel", "setpriv", "nsenter", "unshare"];

    private static IReadOnlyList<string> Names(SphereletOptions options)
    {
        using var libvirt = new LibvirtConnector(options.LibvirtUri, NullLogger<LibvirtConnector>.Instance);
        return [.. HostChecks.Create(options, libvirt).Select(c => c.Name)];
    }

    [Fact]
    public void A_handler_on_the_microvm_backend_adds_the_pvh_kernel_and_the_jails_tools_to_the_checks()
    {
        var options = new SphereletOptions();
        options.RuntimeHandlers["fast"] = new RuntimeHandlerOptions { Vmm = "microvm" };

        Assert.Subset(Names(options).ToHashSet(), MicrovmChecks.ToHashSet());
    }

    [Fact]
    public void Without_one_the_checks_are_the_libvirt_backends_only()
    {
        Assert.Empty(Names(new SphereletOptions()).Intersect(MicrovmChecks));
        Assert.Contains("guest-kernel", Names(new SphereletOptions()));
    }
}
