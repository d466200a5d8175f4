using System.Text.Json;
using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Cri;

/// <summary>Pure mappings between CRI's pod sandbox messages and the domain's sandboxes.</summary>
public static class SandboxMapping
{
    public static RunPodSandboxCommand ToCommand(RunPodSandboxRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var config = request.Config ?? new PodSandboxConfig();
        var resources = config.Linux?.Resources;
        var overhead = config.Linux?.Overhead;
        var security = config.Linux?.SecurityContext;
        var namespaces = security?.NamespaceOptions;
        return new RunPodSandboxCommand
        {
            Metadata = config.Metadata is { } m ? new Domain.Sandboxes.PodSandboxMetadata(m.Name, m.Namespace, m.Uid, m.Attempt) : null,
            Hostname = config.Hostname,
            LogDirectory = config.LogDirectory,
            Dns = config.DnsConfig is { } dns
                ? new DnsSettings([.. dns.Servers], [.. dns.Searches], [.. dns.Options])
                : DnsSettings.None,
            Labels = new Dictionary<string, string>(config.Labels, StringComparer.Ordinal),
            Annotations = new Dictionary<string, string>(config.Annotations, StringComparer.Ordinal),
            RuntimeHandler = request.RuntimeHandler,
            Sysctls = config.Linux is { } linux ? new Dictionary<string, string>(linux.Sysctls, StringComparer.Ordinal) : new Dictionary<string, string>(),
            PortMappings = config.PortMappings.Select(p => new Domain.Sandboxes.PortMapping(
                p.Protocol switch { Protocol.Udp => "udp", Protocol.Sctp => "sctp", _ => "tcp" }, p.ContainerPort, p.HostPort, p.HostIp)).ToList(),
            CpuMillis = CpuLimitMillis(resources),
            MemoryLimitBytes = resources?.MemoryLimitInBytes ?? 0,
            CpuShares = resources?.CpuShares ?? 0,
            Overhead = overhead is null
                ? PodOverhead.None
                : new PodOverhead(Math.Max(CpuLimitMillis(overhead), overhead.CpuShares * 1000 / 1024), overhead.MemoryLimitInBytes),
            CgroupParent = config.Linux?.CgroupParent ?? string.Empty,
            Namespaces = new PodNamespaceRequest(
                namespaces?.Network == NamespaceMode.Node,
                namespaces?.Pid == NamespaceMode.Node,
                namespaces?.Ipc == NamespaceMode.Node,
                Oci.UserNamespaces.Validate(namespaces?.UsernsOptions)),
            SelinuxLabel = SelinuxLabel(security?.SelinuxOptions),
        };
    }

    /// <summary>The parts of an SELinux label that were set, joined as SELinux writes them; empty for none.</summary>
    public static string SelinuxLabel(SELinuxOption? option) =>
        option is null
            ? string.Empty
            : string.Join(':', new[] { option.User, option.Role, option.Type, option.Level }.Where(p => p.Length > 0));

    /// <summary>A CPU limit in millicores from CFS quota over period; 0 for none.</summary>
    public static long CpuLimitMillis(LinuxContainerResources? resources) =>
        resources is { CpuQuota: > 0, CpuPeriod: > 0 } ? resources.CpuQuota * 1000 / resources.CpuPeriod : 0;

    public static SandboxFilter ToFilter(PodSandboxFilter? filter) =>
        filter is null
            ? SandboxFilter.All
            : new SandboxFilter(
                filter.Id.Length > 0 ? filter.Id : null,
                filter.State is { } state ? ToDomain(state.State) : null,
                filter.LabelSelector.Count > 0 ? new Dictionary<string, string>(filter.LabelSelector, StringComparer.Ordinal) : null);

    public static Runtime.V1.PodSandbox ToListItem(Domain.Sandboxes.PodSandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var item = new Runtime.V1.PodSandbox
        {
            Id = sandbox.Id,
            Metadata = ToCri(sandbox.Metadata),
            State = ToCri(sandbox.State),
            CreatedAt = sandbox.CreatedAt,
            RuntimeHandler = sandbox.RuntimeHandler,
        };
        item.Labels.Add(sandbox.Labels.ToDictionary());
        item.Annotations.Add(sandbox.Annotations.ToDictionary());
        return item;
    }

    public static PodSandboxStatusResponse ToStatusResponse(SandboxStatus status, bool verbose, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(status);
        var sandbox = status.Sandbox;
        var response = new PodSandboxStatusResponse
        {
            Status = new Runtime.V1.PodSandboxStatus
            {
                Id = sandbox.Id,
                Metadata = ToCri(sandbox.Metadata),
                State = ToCri(sandbox.State),
                CreatedAt = sandbox.CreatedAt,
                Network = NetworkStatus(sandbox.Network),
                // The pod has its own network, IPC and PID space: its VM.
                Linux = new LinuxPodSandboxStatus
                {
                    Namespaces = new Namespace
                    {
                        Options = new NamespaceOption { Network = NamespaceMode.Pod, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod },
                    },
                },
                RuntimeHandler = sandbox.RuntimeHandler,
            },
            Timestamp = timestamp,
        };
        response.Status.Labels.Add(sandbox.Labels.ToDictionary());
        response.Status.Annotations.Add(sandbox.Annotations.ToDictionary());
        if (verbose)
        {
            response.Info.Add("info", VerboseInfo(status));
        }

        return response;
    }

    /// <summary>The verbose "info" JSON: the VM as the VMM sees it and what CRX reported.</summary>
    public static string VerboseInfo(SandboxStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var sandbox = status.Sandbox;
        var info = new JsonObject
        {
            ["vmm"] = status.VmmName,
            ["vmName"] = sandbox.VmName,
            ["vmUuid"] = sandbox.VmUuid.ToString(),
            ["vmState"] = status.Vm is { } vm ? vm.State.ToString().ToLowerInvariant() : "absent",
            ["vcpus"] = status.Vm?.VirtualCpus ?? sandbox.VirtualCpus,
            ["memoryMiB"] = status.Vm?.MemoryMiB ?? sandbox.MemoryMiB,
            ["cpuTimeNs"] = status.Vm is { } running ? (long)(running.CpuTime.Ticks * 100) : 0,
            ["runtimeHandler"] = sandbox.RuntimeHandler,
            ["hostname"] = sandbox.Hostname,
            ["bootToReadyMs"] = sandbox.Guest.BootToReadyMs,
            ["crxVersion"] = sandbox.Guest.CrxVersion,
            ["guestKernel"] = sandbox.Guest.KernelRelease,
            ["stateReason"] = sandbox.StateReason,
            ["network"] = sandbox.Network is { } network
                ? new JsonObject
                {
                    ["bridge"] = network.Bridge,
                    ["port"] = network.PortName,
                    ["mac"] = network.Mac,
                    ["vlan"] = network.Vlan,
                    ["address"] = $"{network.Address}/{network.PrefixLength}",
                    ["gateway"] = network.Gateway,
                    ["addressV6"] = network.AddressV6 is null ? null : $"{network.AddressV6}/{network.PrefixLengthV6}",
                    ["gatewayV6"] = network.GatewayV6,
                }
                : null,
        };
        return info.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static Runtime.V1.PodSandboxMetadata ToCri(Domain.Sandboxes.PodSandboxMetadata metadata) =>
        new() { Name = metadata.Name, Namespace = metadata.Namespace, Uid = metadata.Uid, Attempt = metadata.Attempt };

    /// <summary>The pod's IPv4 address, and its IPv6 address as an additional IP on a dual-stack node.</summary>
    private static PodSandboxNetworkStatus NetworkStatus(PodNetworkAttachment? network)
    {
        var status = new PodSandboxNetworkStatus { Ip = network?.Address ?? string.Empty };
        if (network?.AddressV6 is { } addressV6)
        {
            status.AdditionalIps.Add(new PodIP { Ip = addressV6 });
        }

        return status;
    }

    private static PodSandboxState ToCri(SandboxState state) =>
        state == SandboxState.Ready ? PodSandboxState.SandboxReady : PodSandboxState.SandboxNotready;

    private static SandboxState ToDomain(PodSandboxState state) =>
        state == PodSandboxState.SandboxReady ? SandboxState.Ready : SandboxState.NotReady;
}
