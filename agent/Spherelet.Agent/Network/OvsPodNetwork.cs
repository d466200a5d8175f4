using System.Net;
using System.Net.Sockets;
using Spherelet.Domain.Errors;
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
    private readonly NftHostPorts _hostPorts;

    public OvsPodNetwork(NodeConfig node, NetworkAllocator allocator, OvsSwitch ovs, NftHostPorts hostPorts, string bridge, string datapath)
    {
        _hostPorts = hostPorts;
        _node = node;
        _allocator = allocator;
        _switch = ovs;
        _bridge = bridge;
        _datapath = datapath;
    }

    public async Task<PodNetworkAttachment?> AttachAsync(
        string sandboxId, PodSandboxMetadata metadata, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(ports);
        var hostPorts = ports.Where(p => p.HostPort > 0).ToList();
        var podCidr = (await _node.GetAsync(cancellationToken)).PodCidrs
            .Where(c => c.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            .Select(c => (IPNetwork?)c)
            .FirstOrDefault();
        var current = await _allocator.CurrentAsync(cancellationToken);
        if (podCidr is null && current.Leases.All(l => l.SandboxId != sandboxId))
        {
            return hostPorts.Count == 0
                ? null
                : throw new PreconditionFailedException("host ports need the pod network, and the node has no pod CIDR yet (the kubelet sends it with UpdateRuntimeConfig)");
        }

        await CheckHostPortsFreeAsync(sandboxId, hostPorts, cancellationToken);

        await _switch.EnsureBridgeAsync(_bridge, _datapath, cancellationToken);
        var (lease, segment) = await _allocator.LeaseAsync(sandboxId, metadata.Namespace, podCidr, cancellationToken);
        try
        {
            await _switch.EnsureGatewayPortAsync(_bridge, segment, cancellationToken);
            await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1", cancellationToken);
            if (hostPorts.Count > 0)
            {
                await NftHostPorts.EnsureTableAsync(cancellationToken);
                foreach (var port in hostPorts)
                {
                    await _hostPorts.AddAsync(sandboxId, port.Protocol, port.HostIp, port.HostPort, lease.Address.ToString(), port.ContainerPort, cancellationToken);
                }
            }
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
        await _hostPorts.RemoveAsync(sandboxId, cancellationToken);
        await _switch.RemovePortAsync(_bridge, PortName(sandboxId), cancellationToken);
        if (await _allocator.ReleaseAsync(sandboxId, keepSegment: false, cancellationToken) is { } segment)
        {
            await _switch.RemoveGatewayPortAsync(_bridge, segment.Vlan, cancellationToken);
        }
    }

    public async Task DetachOthersAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandboxIds);
        var leased = (await _allocator.CurrentAsync(cancellationToken)).Leases.Select(l => l.SandboxId);
        var forwarded = await _hostPorts.OwnersAsync(cancellationToken);
        foreach (var sandboxId in leased.Concat(forwarded).Distinct(StringComparer.Ordinal).Where(id => !sandboxIds.Contains(id)).ToList())
        {
            await DetachAsync(sandboxId, cancellationToken);
        }
    }

    /// <summary>Refuses host ports another pod forwards or a process of the host holds.</summary>
    private static async Task CheckHostPortsFreeAsync(string sandboxId, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken)
    {
        foreach (var port in ports)
        {
            if (port.HostPort > 65535 || port.ContainerPort is < 1 or > 65535)
            {
                throw new InvalidRequestException($"port mapping {port.HostPort} -> {port.ContainerPort}: ports are 1 to 65535");
            }

            if (port.HostIp.Length > 0 && (!IPAddress.TryParse(port.HostIp, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork))
            {
                throw new InvalidRequestException($"port mapping host_ip '{port.HostIp}' is not an IPv4 address");
            }

            if (await NftHostPorts.HolderAsync(port.Protocol, port.HostIp, port.HostPort, cancellationToken) is { } holder && holder != sandboxId)
            {
                throw new PreconditionFailedException($"host port {port.Protocol}/{port.HostPort} is taken by pod sandbox {holder}");
            }

            if (port.Protocol is "tcp" or "udp" && HeldOnHost(port))
            {
                throw new PreconditionFailedException($"host port {port.Protocol}/{port.HostPort} is in use on the host{(port.HostIp.Length > 0 ? " at " + port.HostIp : string.Empty)}");
            }
        }
    }

    /// <summary>Whether a process of the host holds the port (binding it fails).</summary>
    private static bool HeldOnHost(PortMapping port)
    {
        var address = port.HostIp.Length > 0 ? IPAddress.Parse(port.HostIp) : IPAddress.Any;
        using var socket = port.Protocol == "udp"
            ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port.HostPort));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }

    /// <summary>The pod NIC's host name: short (15 bytes at most) and fixed by the sandbox id.</summary>
    public static string PortName(string sandboxId) => "sphp" + sandboxId[..11];

    private static Guid InterfaceId(string sandboxId) => new(Convert.FromHexString(sandboxId[..32]));
}
