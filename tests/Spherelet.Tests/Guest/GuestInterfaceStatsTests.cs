using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Errors;
using Spherelet.Guest;

namespace Spherelet.Tests.Guest;

/// <summary>The guest's interface statistics become metric label values: what a hostile guest sends is checked, not trusted.</summary>
public sealed class GuestInterfaceStatsTests
{
    [Fact]
    public void Interfaces_a_guest_can_have_are_taken_with_their_counters()
    {
        var taken = GuestContainers.CheckedInterfaces("p1", [new InterfaceStats { Name = "eth0", RxBytes = 10, TxDropped = 2 }, new InterfaceStats { Name = "lo" }]);

        Assert.Equal(["eth0", "lo"], taken.Select(i => i.Name));
        Assert.Equal((10UL, 2UL), (taken[0].RxBytes, taken[0].TxDropped));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-name-too-long-x")]
    [InlineData("eth0\"}")]
    [InlineData("a b")]
    [InlineData("../x")]
    [InlineData("eth0\n")]
    public void A_name_no_interface_can_have_fails_the_pods_statistics(string name)
    {
        var error = Assert.Throws<GuestOperationFailedException>(() => GuestContainers.CheckedInterfaces("p1", [new InterfaceStats { Name = name }]));

        Assert.Contains("pod p1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interface_named_twice_or_more_interfaces_than_a_vm_has_fail_the_pods_statistics()
    {
        Assert.Throws<GuestOperationFailedException>(() => GuestContainers.CheckedInterfaces("p1", [new InterfaceStats { Name = "eth0" }, new InterfaceStats { Name = "eth0" }]));
        Assert.Throws<GuestOperationFailedException>(() => GuestContainers.CheckedInterfaces(
            "p1", Enumerable.Range(0, GuestContainers.MaxInterfaces + 1).Select(i => new InterfaceStats { Name = "if" + i }).ToList()));
    }
}
