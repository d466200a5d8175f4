using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Network;

/// <summary>
/// Hands out the node's network allocations (IPv4): a segment per Kubernetes namespace (a VLAN
/// tag, a subnet carved from the pod CIDR, the subnet's first address as the gateway) and, for
/// each pod sandbox, an address on its namespace's segment and a MAC. Every change is saved
/// before it is returned, so allocations survive restarts. Two live leases never share an
/// address or a MAC; addresses are handed out in turn through each subnet (a released one comes
/// back only after the rest of the subnet was used), and MACs never come back.
/// </summary>
public sealed class NetworkAllocator : IDisposable
{
    private const string MacPrefix = "02:53:50"; // locally administered, "SP"
    private const uint MaxMacSerial = 0xFFFFFF;

    private readonly INetworkAllocationStore _store;
    private readonly NetworkAllocatorOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NetworkAllocations? _current;

    public NetworkAllocator(INetworkAllocationStore store, NetworkAllocatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SegmentPrefixLength is < 8 or > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"a segment's prefix length must be 8 to 30, not {options.SegmentPrefixLength}");
        }

        if (options.SegmentPrefixLengthV6 is < 64 or > 120)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"a segment's IPv6 prefix length must be 64 to 120, not {options.SegmentPrefixLengthV6}");
        }

        if (options.FirstVlan < 1 || options.LastVlan > 4094 || options.FirstVlan > options.LastVlan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"VLANs {options.FirstVlan} to {options.LastVlan} are not a range within 1 to 4094");
        }

        _store = store;
        _options = options;
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>What is allocated now (loaded from the store on first use).</summary>
    public async Task<NetworkAllocations> CurrentAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await LoadedAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The pod's lease on its namespace's segment, made (with the segment, if it is the
    /// namespace's first pod) or, when the pod has one already, the one it has.
    /// </summary>
    /// <param name="podCidr">The node's IPv4 pod CIDR (configuration or UpdateRuntimeConfig); null when none is known.</param>
    /// <param name="podCidrV6">The node's IPv6 pod CIDR on a dual-stack node, else null: the pod then gets an IPv6 address too.</param>
    /// <exception cref="PreconditionFailedException">No pod CIDR; a pod CIDR changed under existing segments; no VLAN, subnet or address is left.</exception>
    public async Task<(PodLease Lease, NetworkSegment Segment)> LeaseAsync(string sandboxId, string @namespace, IPNetwork? podCidr, IPNetwork? podCidrV6, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var current = await LoadedAsync(cancellationToken);
            if (current.Leases.FirstOrDefault(l => l.SandboxId == sandboxId) is { } existing)
            {
                return (existing, current.Segments.Single(s => s.Namespace == existing.Namespace));
            }

            var cidr = PodCidrFor(current, podCidr);
            var cidrV6 = PodCidrV6For(current, cidr, podCidrV6);
            var segment = current.Segments.FirstOrDefault(s => s.Namespace == @namespace) ?? NewSegment(current, cidr, cidrV6, @namespace);
            var (address, nextHost) = NextAddress(current, segment);
            if (current.NextMacSerial > MaxMacSerial)
            {
                throw new PreconditionFailedException("every pod MAC of this node was handed out once (16 million): reset the network allocations");
            }

            var addressV6 = segment.SubnetV6 is { } subnetV6
                ? FromUInt128(ToUInt128(subnetV6.BaseAddress) + (ToUInt(address) - ToUInt(segment.Subnet.BaseAddress)))
                : null;
            var lease = new PodLease(sandboxId, @namespace, address, Mac(current.NextMacSerial), addressV6);
            var grown = segment with { NextHost = nextHost };
            var next = current with
            {
                PodCidr = cidr,
                PodCidrV6 = cidrV6,
                Segments = [.. current.Segments.Where(s => s.Namespace != @namespace), grown],
                Leases = [.. current.Leases, lease],
                NextMacSerial = current.NextMacSerial + 1,
            };
            await SaveAsync(next, cancellationToken);
            return (lease, grown);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Releases the pod's lease (none is fine).</summary>
    /// <param name="keepSegment">Keep the namespace's segment when this was its last pod (else it is released too).</param>
    /// <returns>The namespace's segment when it was released with its last pod, else null.</returns>
    public async Task<NetworkSegment?> ReleaseAsync(string sandboxId, bool keepSegment, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var current = await LoadedAsync(cancellationToken);
            if (current.Leases.FirstOrDefault(l => l.SandboxId == sandboxId) is not { } lease)
            {
                return null;
            }

            var leases = current.Leases.Where(l => l.SandboxId != sandboxId).ToList();
            var segment = current.Segments.Single(s => s.Namespace == lease.Namespace);
            var releaseSegment = !keepSegment && leases.All(l => l.Namespace != lease.Namespace);
            var segments = releaseSegment ? current.Segments.Where(s => s != segment).ToList() : current.Segments;
            await SaveAsync(current with { Leases = leases, Segments = segments, PodCidr = segments.Count == 0 ? null : current.PodCidr, PodCidrV6 = segments.Count == 0 ? null : current.PodCidrV6 }, cancellationToken);
            return releaseSegment ? segment : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<NetworkAllocations> LoadedAsync(CancellationToken cancellationToken) =>
        _current ??= await _store.LoadAsync(cancellationToken) ?? NetworkAllocations.Empty(_options.SegmentPrefixLength);

    private async Task SaveAsync(NetworkAllocations next, CancellationToken cancellationToken)
    {
        await _store.SaveAsync(next, cancellationToken);
        _current = next;
    }

    private static IPNetwork PodCidrFor(NetworkAllocations current, IPNetwork? podCidr)
    {
        if (podCidr is not { } cidr || cidr.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new PreconditionFailedException(
                "the node has no IPv4 pod CIDR yet: the kubelet sends it with UpdateRuntimeConfig (its --pod-cidr or the node's spec.podCIDR)");
        }

        if (current.PodCidr is { } carved && !carved.Equals(cidr) && current.Segments.Count > 0)
        {
            throw new PreconditionFailedException(
                $"the pod CIDR changed from {carved} to {cidr} while {current.Segments.Count} segments carved from the old one are in use: remove their pods first");
        }

        return cidr;
    }

    private IPNetwork? PodCidrV6For(NetworkAllocations current, IPNetwork podCidr, IPNetwork? podCidrV6)
    {
        if (podCidrV6 is { } v6 && v6.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new PreconditionFailedException($"{v6} is not an IPv6 network");
        }

        if (current.Segments.Count > 0 && !Equals(current.PodCidrV6, podCidrV6))
        {
            throw new PreconditionFailedException(
                $"the IPv6 pod CIDR changed from {current.PodCidrV6?.ToString() ?? "none"} to {podCidrV6?.ToString() ?? "none"} while {current.Segments.Count} segments are in use: remove their pods first");
        }

        if (podCidrV6 is { } cidr && cidr.PrefixLength + (current.SegmentPrefixLength - podCidr.PrefixLength) > _options.SegmentPrefixLengthV6)
        {
            throw new PreconditionFailedException(
                $"the IPv6 pod CIDR {cidr} cannot hold a /{_options.SegmentPrefixLengthV6} for every IPv4 segment: use a larger IPv6 pod CIDR");
        }

        return podCidrV6;
    }

    /// <summary>A new segment: the lowest free VLAN tag, and the lowest subnet of the pod CIDR no segment has (on a dual-stack node, with the IPv6 subnet at the same place).</summary>
    private NetworkSegment NewSegment(NetworkAllocations current, IPNetwork podCidr, IPNetwork? podCidrV6, string @namespace)
    {
        if (current.SegmentPrefixLength < podCidr.PrefixLength)
        {
            throw new PreconditionFailedException(
                $"segments of /{current.SegmentPrefixLength} do not fit in the pod CIDR {podCidr}: configure a longer segment prefix length");
        }

        var vlans = current.Segments.Select(s => s.Vlan).ToHashSet();
        var vlan = Enumerable.Range(_options.FirstVlan, _options.LastVlan - _options.FirstVlan + 1).FirstOrDefault(v => !vlans.Contains(v));
        if (vlan == 0)
        {
            throw new PreconditionFailedException($"no VLAN tag is left for namespace {@namespace}: all of {_options.FirstVlan} to {_options.LastVlan} are in use");
        }

        var size = 1u << (32 - current.SegmentPrefixLength);
        var count = 1u << (current.SegmentPrefixLength - podCidr.PrefixLength);
        var taken = current.Segments.Select(s => ToUInt(s.Subnet.BaseAddress)).ToHashSet();
        var baseAddress = ToUInt(podCidr.BaseAddress);
        for (var i = 0u; i < count; i++)
        {
            var start = baseAddress + (i * size);
            if (!taken.Contains(start))
            {
                var subnet = new IPNetwork(FromUInt(start), current.SegmentPrefixLength);
                if (podCidrV6 is not { } v6)
                {
                    return new NetworkSegment(@namespace, vlan, subnet, FromUInt(start + 1), 2);
                }

                var startV6 = ToUInt128(v6.BaseAddress) + ((UInt128)i << (128 - _options.SegmentPrefixLengthV6));
                return new NetworkSegment(@namespace, vlan, subnet, FromUInt(start + 1), 2, new IPNetwork(FromUInt128(startV6), _options.SegmentPrefixLengthV6), FromUInt128(startV6 + 1));
            }
        }

        throw new PreconditionFailedException(
            $"no /{current.SegmentPrefixLength} subnet of the pod CIDR {podCidr} is left for namespace {@namespace}: all {count} are in use");
    }

    /// <summary>The next free host address of the segment at or after its cursor (wrapping), skipping the network, gateway and broadcast addresses.</summary>
    private static (IPAddress Address, uint NextHost) NextAddress(NetworkAllocations current, NetworkSegment segment)
    {
        var size = 1u << (32 - segment.Subnet.PrefixLength);
        var first = 2u; // 0 is the network, 1 the gateway
        var last = size - 2; // size - 1 is the broadcast address
        var used = current.Leases.Where(l => l.Namespace == segment.Namespace).Select(l => ToUInt(l.Address)).ToHashSet();
        var baseAddress = ToUInt(segment.Subnet.BaseAddress);
        var hosts = last - first + 1;
        var start = segment.NextHost is >= 2 && segment.NextHost <= last ? segment.NextHost : first;
        for (var i = 0u; i < hosts; i++)
        {
            var offset = first + ((start - first + i) % hosts);
            if (!used.Contains(baseAddress + offset))
            {
                return (FromUInt(baseAddress + offset), offset == last ? first : offset + 1);
            }
        }

        throw new PreconditionFailedException(
            $"segment {segment.Subnet} of namespace {segment.Namespace} has no address left: all {hosts} are leased");
    }

    private static string Mac(uint serial) =>
        string.Create(CultureInfo.InvariantCulture, $"{MacPrefix}:{(serial >> 16) & 0xFF:x2}:{(serial >> 8) & 0xFF:x2}:{serial & 0xFF:x2}");

    private static UInt128 ToUInt128(IPAddress address) => BinaryPrimitives.ReadUInt128BigEndian(address.GetAddressBytes());

    private static IPAddress FromUInt128(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    private static uint ToUInt(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static IPAddress FromUInt(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
