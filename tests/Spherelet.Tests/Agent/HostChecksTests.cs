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
    public void By_default_the_checks_cover_both_backends_the_default_handlers_microvm_and_the_libvirt_handler()
    {
        var names = Names(new SphereletOptions());

        Assert.Subset(names.ToHashSet(), MicrovmChecks.ToHashSet());
        Assert.Contains("guest-kernel", names);
    }

    [Fact]
    public void With_every_handler_on_libvirt_the_checks_are_the_libvirt_backends_only()
    {
        var options = new SphereletOptions();
        options.RuntimeHandlers["default"] = new RuntimeHandlerOptions { Vmm = "libvirt" };

        Assert.Empty(Names(options).Intersect(MicrovmChecks));
        Assert.Contains("guest-kernel", Names(options));
    }
}
