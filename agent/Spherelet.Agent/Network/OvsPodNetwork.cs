using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Network;
using Spherelet.Domain.Node;
using Spherelet.Domain.Runtime;
using Spherelet.Domain.Sandboxes;
using Spherelet.Network;

namespace Spherelet.Agent.Network;

/// <summary>
/// Pods on Open vSwitch segments: the integration bridge, a segment per namespace (its VLAN, its
/// gateway port on the host, its egress SNAT rule, and its isolation flows when the namespace
/// is isolated), a lease per pod with its host ports, and IPv4 forwarding on the host so that
/// segments reach each other and the world through the host.
/// </summary>
public sealed partial class OvsPodNetwork : IPodNetwork, IDisposable
{
    private readonly NodeConfig _node;
    private readonly NetworkAllocator _allocator;
    private readonly OvsSwitch _switch;
    private readonly NftHostPorts _hostPorts;
    private readonly NftEgress _egress;
    private readonly OvsIsolation _isolation;
    private readonly OvsPortSecurity _portSecurity;
    private readonly PodNetworkSettings _settings;
    private readonly ILogger<OvsPodNetwork> _logger;
    private readonly INetworkDriftMeter? _driftMeter;
    private readonly IRecoveryMeter? _recoveryMeter;
    // Held while segments change (attach, detach, recovery, repair), so that a segment is never
    // made by one and removed by another half way, and repair sees allocations that hold still.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlySet<string>? _pendingRecovery;
    private bool _recoveryRan;

    // Pods whose NIC the VMM has put on the bridge (labelled after the VM started, or found at
    // recovery): only these are put back when their port goes missing, and only when it was
    // missing at the previous check too, so a VM that is starting or stopping (its tap there but
    // not yet, or no longer, on the bridge) is left to the VMM.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _plugged = new(StringComparer.Ordinal);
    private HashSet<string> _portsMissingBefore = new(StringComparer.Ordinal);

    public OvsPodNetwork(
        NodeConfig node,
        NetworkAllocator allocator,
        OvsSwitch ovs,
        NftHostPorts hostPorts,
        NftEgress egress,
        OvsIsolation isolation,
        OvsPortSecurity portSecurity,
        PodNetworkSettings settings,
        ILogger<OvsPodNetwork> logger,
        INetworkDriftMeter? driftMeter = null,
        IRecoveryMeter? recoveryMeter = null)
    {
        _driftMeter = driftMeter;
        _recoveryMeter = recoveryMeter;
        _node = node;
        _allocator = allocator;
        _switch = ovs;
        _hostPorts = hostPorts;
        _egress = egress;
        _isolation = isolation;
        _portSecurity = portSecurity;
        _settings = settings;
        _logger = logger;
    }

    public void Dispose() => _gate.Dispose();

    public async Task<PodNetworkAttachment?> AttachAsync(
        string sandboxId, PodSandboxMetadata metadata, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(ports);
        var hostPorts = ports.Where(p => p.HostPort > 0).ToList();
        var podCidrs = (await _node.GetAsync(cancellationToken)).PodCidrs;
        var podCidr = podCidrs.Where(c => c.BaseAddress.AddressFamily == AddressFamily.InterNetwork).Select(c => (IPNetwork?)c).FirstOrDefault();
        var podCidrV6 = podCidrs.Where(c => c.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6).Select(c => (IPNetwork?)c).FirstOrDefault();
        var current = await _allocator.CurrentAsync(cancellationToken);
        if (podCidr is null && current.Leases.All(l => l.SandboxId != sandboxId))
        {
            return hostPorts.Count == 0
                ? null
                : throw new PreconditionFailedException("host ports need the pod network, and the node has no pod CIDR yet (the kubelet sends it with UpdateRuntimeConfig)");
        }

        PodLease? lease = null;
        NetworkSegment segment;
        try
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await RecoverPendingLockedAsync(cancellationToken);
                await CheckHostPortsFreeAsync(sandboxId, hostPorts, cancellationToken);
                await EnsureBridgeAsync(cancellationToken);
                (lease, segment) = await _allocator.LeaseAsync(sandboxId, metadata.Namespace, podCidr, podCidrV6, cancellationToken);
                var allocations = await _allocator.CurrentAsync(cancellationToken);
                await EnsureSegmentAsync(segment, allocations.PodCidr!.Value, allocations.PodCidrV6, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }

            if (hostPorts.Count > 0)
            {
                await NftTable.EnsureAsync(cancellationToken);
                foreach (var port in hostPorts)
                {
                    await _hostPorts.AddAsync(sandboxId, port.Protocol, port.HostIp, port.HostPort, lease.Address.ToString(), port.ContainerPort, cancellationToken);
                }
            }
        }
        catch when (lease is not null)
        {
            await DetachAsync(sandboxId, CancellationToken.None);
            throw;
        }

        return new PodNetworkAttachment(
            _settings.Bridge,
            PortName(sandboxId),
            lease.Mac,
            segment.Vlan,
            lease.Address.ToString(),
            segment.Subnet.PrefixLength,
            segment.Gateway.ToString(),
            InterfaceId(sandboxId),
            _settings.Mtu,
            lease.AddressV6?.ToString(),
            segment.SubnetV6?.PrefixLength ?? 0,
            segment.GatewayV6?.ToString(),
            ChecksumOffload: _settings.Datapath != "netdev");
    }

    public Task PlugPortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return _switch.PlugPortAsync(attachment.Bridge, attachment.PortName, attachment.Vlan, attachment.Mac, attachment.InterfaceId, cancellationToken);
    }

    public async Task SecurePortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        await _portSecurity.SecureAsync(
            attachment.Bridge,
            attachment.PortName,
            attachment.Mac,
            IPAddress.Parse(attachment.Address),
            attachment.AddressV6 is null ? null : IPAddress.Parse(attachment.AddressV6),
            cancellationToken);
    }

    public Task LabelPortAsync(string sandboxId, PodSandboxMetadata metadata, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(attachment);
        _plugged[sandboxId] = true;
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
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await DetachLockedAsync(sandboxId, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DetachLockedAsync(string sandboxId, CancellationToken cancellationToken)
    {
        _plugged.TryRemove(sandboxId, out _);
        if ((await _allocator.CurrentAsync(cancellationToken)).Leases.FirstOrDefault(l => l.SandboxId == sandboxId) is { } lease)
        {
            await _portSecurity.ReleaseAsync(_settings.Bridge, lease.Mac, cancellationToken);
        }

        await _hostPorts.RemoveAsync(sandboxId, cancellationToken);
        await _switch.RemovePortAsync(_settings.Bridge, PortName(sandboxId), cancellationToken);
        if (await _allocator.ReleaseAsync(sandboxId, _settings.KeepSegments, cancellationToken) is { } segment)
        {
            await RemoveSegmentAsync(segment.Vlan, cancellationToken);
        }
    }

    public async Task RecoverAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandboxIds);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _recoveryRan = true;
            await ReconcileAsync(sandboxIds, cancellationToken);
            _pendingRecovery = null;
        }
        catch (NetworkOperationFailedException e)
        {
            // The runtime serves without the switch; NetworkReady says what is wrong, and the
            // next pod attached finishes this first.
            _pendingRecovery = sandboxIds;
            LogRecoveryDeferred(e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Puts back what the switch and the host's rules lost since (run every few seconds by
    /// <see cref="NetworkRepairService"/>): finishes a recovery deferred while the switch was
    /// unreachable, then compares the bridge, the gateways, the egress rules, the isolation flows and
    /// the pods' ports with the allocations and restores what differs, segment by segment.
    /// Nothing is done before the recovery at start has run, or while the node has no segments.
    /// </summary>
    /// <exception cref="NetworkOperationFailedException">The switch or a tool cannot be reached.</exception>
    public async Task RepairAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_recoveryRan)
            {
                return;
            }

            if (_pendingRecovery is not null)
            {
                await RecoverPendingLockedAsync(cancellationToken);
                LogDeferredRecoveryDone();
                return;
            }

            var current = await _allocator.CurrentAsync(cancellationToken);
            if (current.PodCidr is null || current.Segments.Count == 0)
            {
                return;
            }

            await RepairPortSecurityAsync(current, cancellationToken);
            var observed = await ObserveAsync(current, cancellationToken);
            var found = NetworkDrift.Find(current, _settings, observed);
            var missingPorts = found.Where(f => f.SandboxId is not null).Select(f => f.SandboxId!).ToHashSet(StringComparer.Ordinal);
            var findings = found.Where(f => f.SandboxId is null || _portsMissingBefore.Contains(f.SandboxId)).ToList();
            _portsMissingBefore = missingPorts;
            if (findings.Count == 0)
            {
                return;
            }

            foreach (var finding in findings)
            {
                LogDrift(finding.Vlan?.ToString(CultureInfo.InvariantCulture) ?? "-", finding.SandboxId ?? "-", finding.What);
                _driftMeter?.Found(finding);
            }

            await EnsureBridgeAsync(cancellationToken);
            var everySegment = findings.Any(f => f.Vlan is null && f.SandboxId is null);
            foreach (var segment in current.Segments.Where(s => everySegment || findings.Any(f => f.Vlan == s.Vlan)))
            {
                if (observed.FlowCounts.GetValueOrDefault(segment.Vlan) > NetworkDrift.WantedFlows(segment, current.PodCidrV6, _settings))
                {
                    await _isolation.OpenAsync(_settings.Bridge, segment.Vlan, cancellationToken);
                }

                await EnsureSegmentAsync(segment, current.PodCidr.Value, current.PodCidrV6, cancellationToken);
            }

            foreach (var lease in current.Leases.Where(l => findings.Any(f => f.SandboxId == l.SandboxId)))
            {
                if (current.Segments.FirstOrDefault(s => s.Namespace == lease.Namespace) is { } segment)
                {
                    await _switch.PlugPortAsync(_settings.Bridge, PortName(lease.SandboxId), segment.Vlan, lease.Mac, InterfaceId(lease.SandboxId), cancellationToken);
                    await SecureLeaseAsync(lease, cancellationToken);
                }
            }

            LogRepaired(findings.Count);
            foreach (var finding in findings)
            {
                _driftMeter?.Repaired(finding);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the bridge, its ports and flows, the egress rules, the host's addresses and forwarding, in a few calls.</summary>
    private async Task<SwitchObservation> ObserveAsync(NetworkAllocations current, CancellationToken cancellationToken)
    {
        var bridge = _settings.Bridge;
        var problem = await _switch.BridgeProblemAsync(bridge, _settings.Datapath, cancellationToken);
        var exists = problem is null || await _switch.BridgeDatapathAsync(bridge, cancellationToken) is not null;
        var gateways = current.Segments.Select(s => OvsSwitch.GatewayPortName(s.Vlan)).ToList();
        return new SwitchObservation(
            problem,
            exists ? await _switch.PortNamesAsync(bridge, cancellationToken) : new HashSet<string>(StringComparer.Ordinal),
            exists ? await _isolation.FlowCountsAsync(bridge, cancellationToken) : new Dictionary<int, int>(),
            await _egress.FamiliesAsync(cancellationToken),
            await OvsSwitch.HostAddressesAsync(cancellationToken),
            gateways.Where(OvsSwitch.InterfaceUp).ToHashSet(StringComparer.Ordinal),
            current.Leases
                .Where(l => _plugged.ContainsKey(l.SandboxId))
                .Select(l => PortName(l.SandboxId))
                .Where(p => Directory.Exists(Path.Combine("/sys/class/net", p)))
                .ToHashSet(StringComparer.Ordinal),
            await ForwardingAsync("/proc/sys/net/ipv4/ip_forward", cancellationToken),
            await ForwardingAsync("/proc/sys/net/ipv6/conf/all/forwarding", cancellationToken));
    }

    private static async Task<bool> ForwardingAsync(string path, CancellationToken cancellationToken) =>
        File.Exists(path) && (await File.ReadAllTextAsync(path, cancellationToken)).Trim() == "1";

    private async Task RecoverPendingLockedAsync(CancellationToken cancellationToken)
    {
        if (_pendingRecovery is { } sandboxIds)
        {
            await ReconcileAsync(sandboxIds, cancellationToken);
            _pendingRecovery = null;
        }
    }

    private async Task ReconcileAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken)
    {
        await EnsureBridgeAsync(cancellationToken);
        var leased = (await _allocator.CurrentAsync(cancellationToken)).Leases.Select(l => l.SandboxId);
        var forwarded = await _hostPorts.OwnersAsync(cancellationToken);
        var ports = await _switch.SpherletPortsAsync(_settings.Bridge, cancellationToken);
        var podPorts = ports.Where(p => p.Value == "pod").Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var sandboxId in leased.Concat(forwarded).Distinct(StringComparer.Ordinal).Where(id => !sandboxIds.Contains(id)).ToList())
        {
            LogLeftoverPod(sandboxId);
            await DetachLockedAsync(sandboxId, cancellationToken);
            _recoveryMeter?.Removed(LeftoverKind.PodNetwork);
            podPorts.Remove(PortName(sandboxId));
        }

        var livePorts = sandboxIds.Select(PortName).ToHashSet(StringComparer.Ordinal);
        foreach (var port in podPorts.Where(p => !livePorts.Contains(p)))
        {
            LogLeftoverPort(port);
            await _switch.RemovePortAsync(_settings.Bridge, port, cancellationToken);
            _recoveryMeter?.Removed(LeftoverKind.SwitchPort);
        }

        foreach (var sandboxId in sandboxIds)
        {
            _plugged[sandboxId] = true;
        }

        // Every running pod's port secured for its port number now; flows no pod owns removed.
        var leases = (await _allocator.CurrentAsync(cancellationToken)).Leases;
        foreach (var lease in leases.Where(l => sandboxIds.Contains(l.SandboxId) && podPorts.Contains(PortName(l.SandboxId))))
        {
            await SecureLeaseAsync(lease, cancellationToken);
        }

        var owned = leases.Select(l => _portSecurity.Cookie(l.Mac)).ToHashSet();
        foreach (var cookie in (await _portSecurity.FlowCountsAsync(_settings.Bridge, cancellationToken)).Keys.Where(c => !owned.Contains(c)))
        {
            await _portSecurity.ReleaseCookieAsync(_settings.Bridge, cookie, cancellationToken);
            _recoveryMeter?.Removed(LeftoverKind.PortSecurityFlows);
        }

        var current = await _allocator.CurrentAsync(cancellationToken);
        foreach (var segment in current.Segments)
        {
            await EnsureSegmentAsync(segment, current.PodCidr!.Value, current.PodCidrV6, cancellationToken);
        }

        var vlans = current.Segments.Select(s => s.Vlan).ToHashSet();
        var gateways = ports.Where(p => p.Value == "gateway").Select(p => OvsSwitch.GatewayVlan(p.Key)).OfType<int>();
        var egress = await _egress.SegmentsAsync(cancellationToken);
        var isolated = await _isolation.IsolatedAsync(_settings.Bridge, cancellationToken);
        foreach (var vlan in gateways.Concat(egress).Concat(isolated).Distinct().Where(v => !vlans.Contains(v)).ToList())
        {
            LogLeftoverSegment(vlan);
            await RemoveSegmentAsync(vlan, cancellationToken);
            _recoveryMeter?.Removed(LeftoverKind.Segment);
        }
    }

    /// <summary>The bridge, with its base flows (table 0 passes what is not a secured pod's on to table 1).</summary>
    private async Task EnsureBridgeAsync(CancellationToken cancellationToken)
    {
        await _switch.EnsureBridgeAsync(_settings.Bridge, _settings.Datapath, cancellationToken);
        await _portSecurity.EnsureBaseAsync(_settings.Bridge, cancellationToken);
    }

    private Task SecureLeaseAsync(PodLease lease, CancellationToken cancellationToken) =>
        _portSecurity.SecureAsync(_settings.Bridge, PortName(lease.SandboxId), lease.Mac, lease.Address, lease.AddressV6, cancellationToken);

    /// <summary>Re-secures the ports of plugged pods whose port security flows are not all there (the bridge lost them).</summary>
    private async Task RepairPortSecurityAsync(NetworkAllocations current, CancellationToken cancellationToken)
    {
        if (await _switch.BridgeDatapathAsync(_settings.Bridge, cancellationToken) is null)
        {
            return;
        }

        var counts = await _portSecurity.FlowCountsAsync(_settings.Bridge, cancellationToken);
        foreach (var lease in current.Leases.Where(l => _plugged.ContainsKey(l.SandboxId) && Directory.Exists(Path.Combine("/sys/class/net", PortName(l.SandboxId)))))
        {
            var wanted = OvsPortSecurity.FlowsFor(lease.AddressV6 is not null);
            var found = counts.GetValueOrDefault(_portSecurity.Cookie(lease.Mac));
            if (found != wanted)
            {
                LogDrift("-", lease.SandboxId, $"{found} port security flows instead of {wanted}");
                await EnsureBridgeAsync(cancellationToken);
                await SecureLeaseAsync(lease, cancellationToken);
            }
        }
    }

    /// <summary>Makes the segment's gateway, egress rule and isolation flows what the configuration says (each step idempotent).</summary>
    private async Task EnsureSegmentAsync(NetworkSegment segment, IPNetwork podCidr, IPNetwork? podCidrV6, CancellationToken cancellationToken)
    {
        await _switch.EnsureGatewayPortAsync(_settings.Bridge, segment, _settings.Mtu, cancellationToken);
        await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1", cancellationToken);

        // Host ports on 127.0.0.1: the host's connection leaves through the gateway with its
        // loopback source (then masqueraded), which needs route_localnet there, and the guard first.
        await NftTable.EnsureLocalnetGuardAsync(cancellationToken);
        await File.WriteAllTextAsync($"/proc/sys/net/ipv4/conf/{OvsSwitch.GatewayPortName(segment.Vlan)}/route_localnet", "1", cancellationToken);
        await _egress.EnsureSegmentAsync(segment.Vlan, segment.Subnet, podCidr, _settings.SnatAddressOf(segment.Namespace), cancellationToken);
        var dualStack = segment.SubnetV6 is not null && podCidrV6 is not null;
        if (dualStack)
        {
            await File.WriteAllTextAsync("/proc/sys/net/ipv6/conf/all/forwarding", "1", cancellationToken);
            await _egress.EnsureSegmentAsync(segment.Vlan, segment.SubnetV6!.Value, podCidrV6!.Value, null, cancellationToken);
        }

        if (_settings.PolicyOf(segment.Namespace).Isolated)
        {
            await _isolation.IsolateAsync(_settings.Bridge, segment.Vlan, segment.Subnet, podCidr, cancellationToken);
            if (dualStack)
            {
                await _isolation.IsolateAsync(_settings.Bridge, segment.Vlan, segment.SubnetV6!.Value, podCidrV6!.Value, cancellationToken);
            }
        }
        else
        {
            await _isolation.OpenAsync(_settings.Bridge, segment.Vlan, cancellationToken);
        }
    }

    private async Task RemoveSegmentAsync(int vlan, CancellationToken cancellationToken)
    {
        await _isolation.OpenAsync(_settings.Bridge, vlan, cancellationToken);
        await _egress.RemoveSegmentAsync(vlan, cancellationToken);
        await _switch.RemoveGatewayPortAsync(_settings.Bridge, vlan, cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "network recovery deferred until the next pod is attached: {Reason}")]
    private partial void LogRecoveryDeferred(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "network drift vlan={Vlan} sandbox={SandboxId}: {What}")]
    private partial void LogDrift(string vlan, string sandboxId, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "network repaired findings={Count}")]
    private partial void LogRepaired(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "network recovery deferred at start is done")]
    private partial void LogDeferredRecoveryDone();

    [LoggerMessage(Level = LogLevel.Information, Message = "network leftover pod detached sandbox={SandboxId}")]
    private partial void LogLeftoverPod(string sandboxId);

    [LoggerMessage(Level = LogLevel.Information, Message = "network leftover port removed port={Port}")]
    private partial void LogLeftoverPort(string port);

    [LoggerMessage(Level = LogLevel.Information, Message = "network leftover segment removed vlan={Vlan}")]
    private partial void LogLeftoverSegment(int vlan);
}
