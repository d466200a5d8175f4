using System.Net;
using System.Net.Sockets;
using Spherelet.Domain.Network;
using Spherelet.Domain.Node;
using Spherelet.Domain.Sandboxes;
using Spherelet.Network;

namespace Spherelet.Agent.Network;

/// <summary>
/// Pods on Open vSwitch segments: the integration bridge (made when first needed), a segment
/// per namespace with its gateway port on the host, a lease per pod, and IPv4 forwarding on
/// the host so that segments reach each other and the host routes between them.
/// </summary>
public sealed class OvsPodNetwork : IPodNetwork
{
    private readonly NodeConfig _node;
    private readonly NetworkAllocator _allocator;
    private readonly OvsSwitch _switch;
    private readonly string _bridge;
    private readonly string _datapath;

    public OvsPodNetwork(NodeConfig node, NetworkAllocator allocator, OvsSwitch ovs, string bridge, string datapath)
    {
        _node = node;
        _allocator = allocator;
        _switch = ovs;
        _bridge = bridge;
        _datapath = datapath;
    }

    public async Task<PodNetworkAttachment?> AttachAsync(string sandboxId, PodSandboxMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var podCidr = (await _node.GetAsync(cancellationToken)).PodCidrs.FirstOrDefault(c => c.BaseAddress.AddressFamily == AddressFamily.InterNetwork);
        var current = await _allocator.CurrentAsync(cancellationToken);
        if (podCidr.BaseAddress is null && current.Leases.All(l => l.SandboxId != sandboxId))
        {
            return null;
        }

        await _switch.EnsureBridgeAsync(_bridge, _datapath, cancellationToken);
        var (lease, segment) = await _allocator.LeaseAsync(sandboxId, metadata.Namespace, podCidr.BaseAddress is null ? null : podCidr, cancellationToken);
        try
        {
            await _switch.EnsureGatewayPortAsync(_bridge, segment, cancellationToken);
            await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1", cancellationToken);
        }
        catch
        {
            await DetachAsync(sandboxId, CancellationToken.None);
            throw;
        }

        return new PodNetworkAttachment(
            _bridge,
            PortName(sandboxId),
            lease.Mac,
            segment.Vlan,
            lease.Address.ToString(),
            segment.Subnet.PrefixLength,
            segment.Gateway.ToString(),
            InterfaceId(sandboxId));
    }

    public Task LabelPortAsync(string sandboxId, PodSandboxMetadata metadata, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(attachment);
        return _switch.LabelPortAsync(
            attachment.PortName,
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [OvsSwitch.RoleKey] = "pod",
                [OvsSwitch.NamespaceKey] = metadata.Namespace,
                ["spherelet-pod"] = metadata.Name,
                ["spherelet-pod-uid"] = metadata.Uid,
                ["spherelet-sandbox"] = sandboxId,
                ["spherelet-ip"] = attachment.Address,
            },
            cancellationToken);
    }

    public async Task DetachAsync(string sandboxId, CancellationToken cancellationToken)
    {
        await _switch.RemovePortAsync(_bridge, PortName(sandboxId), cancellationToken);
        if (await _allocator.ReleaseAsync(sandboxId, keepSegment: false, cancellationToken) is { } segment)
        {
            await _switch.RemoveGatewayPortAsync(_bridge, segment.Vlan, cancellationToken);
        }
    }

    public async Task DetachOthersAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandboxIds);
        foreach (var lease in (await _allocator.CurrentAsync(cancellationToken)).Leases.Where(l => !sandboxIds.Contains(l.SandboxId)))
        {
            await DetachAsync(lease.SandboxId, cancellationToken);
        }
    }

    /// <summary>The pod NIC's host name: short (15 bytes at most) and fixed by the sandbox id.</summary>
    public static string PortName(string sandboxId) => "sphp" + sandboxId[..11];

    private static Guid InterfaceId(string sandboxId) => new(Convert.FromHexString(sandboxId[..32]));
}
