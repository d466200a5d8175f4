using System.Text.Json;
using Spherelet.Cri;
using Spherelet.Domain.Health;
using Spherelet.Domain.Node;

namespace Spherelet.Tests.Cri;

public sealed class StatusMappingTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Failed_runtime_checks_make_RuntimeReady_false_with_their_reasons()
    {
        var report = new HostHealthReport(
        [
            HostCheckResult.Ok("libvirt", HealthArea.Runtime, "libvirtd 9.0.0"),
            HostCheckResult.Fail("guest-kernel", HealthArea.Runtime, "GuestKernelMissing", "/k not found", "build it"),
            HostCheckResult.Ok("ovs", HealthArea.Network, "up"),
            HostCheckResult.Warn("kvm", HealthArea.Host, "TCG", "enable KVM"),
        ], At);

        var response = StatusMapping.ToStatusResponse(report, NodeNetworkConfig.Empty, verbose: false, ["default"]);

        var runtime = Assert.Single(response.Status.Conditions, c => c.Type == "RuntimeReady");
        Assert.False(runtime.Status);
        Assert.Equal("GuestKernelMissing", runtime.Reason);
        Assert.Equal("guest-kernel: /k not found", runtime.Message);
        var network = Assert.Single(response.Status.Conditions, c => c.Type == "NetworkReady");
        Assert.True(network.Status);
        Assert.Empty(response.Info);
    }

    [Fact]
    public void Several_failures_are_all_named()
    {
        var report = new HostHealthReport(
        [
            HostCheckResult.Fail("ovs", HealthArea.Network, "OvsdbUnreachable", "no answer", "start it"),
            HostCheckResult.Fail("libvirt", HealthArea.Runtime, "LibvirtUnreachable", "refused", "start it"),
            HostCheckResult.Fail("qemu", HealthArea.Runtime, "QemuMissing", "not found", "install it"),
        ], At);

        var conditions = StatusMapping.ToStatusResponse(report, NodeNetworkConfig.Empty, verbose: false, ["default"]).Status.Conditions;

        Assert.Equal("LibvirtUnreachable,QemuMissing", conditions.Single(c => c.Type == "RuntimeReady").Reason);
        Assert.Equal("OvsdbUnreachable", conditions.Single(c => c.Type == "NetworkReady").Reason);
    }

    [Fact]
    public void Verbose_status_carries_every_check_and_the_pod_cidr_as_json()
    {
        var report = new HostHealthReport([HostCheckResult.Ok("libvirt", HealthArea.Runtime, "libvirtd 9.0.0")], At);

        var response = StatusMapping.ToStatusResponse(report, NodeNetworkConfig.ParsePodCidrs("10.244.0.0/24"), verbose: true, ["default"]);

        using var checks = JsonDocument.Parse(response.Info["checks"]);
        Assert.Equal("libvirt", checks.RootElement[0].GetProperty("name").GetString());
        Assert.Equal("Ok", checks.RootElement[0].GetProperty("outcome").GetString());
        using var runtime = JsonDocument.Parse(response.Info["runtime"]);
        Assert.Equal("10.244.0.0/24", runtime.RootElement.GetProperty("podCIDR").GetString());
        Assert.Equal("spherelet", runtime.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public void Status_lists_each_runtime_handler_and_the_default_one_by_its_empty_name_each_with_recursive_read_only_mounts_and_user_namespaces()
    {
        var report = new HostHealthReport([], DateTimeOffset.UnixEpoch);

        var handlers = StatusMapping.ToStatusResponse(report, NodeNetworkConfig.Empty, verbose: false, ["default", "large"]).RuntimeHandlers;

        Assert.Equal(["", "default", "large"], handlers.Select(h => h.Name));
        Assert.All(handlers, h => Assert.True(h.Features.RecursiveReadOnlyMounts && h.Features.UserNamespaces));
    }

    [Fact]
    public void Status_announces_the_supplemental_groups_policy_feature()
    {
        var response = StatusMapping.ToStatusResponse(new HostHealthReport([], DateTimeOffset.UnixEpoch), NodeNetworkConfig.Empty, verbose: false, ["default"]);

        Assert.True(response.Features.SupplementalGroupsPolicy);
    }
}
