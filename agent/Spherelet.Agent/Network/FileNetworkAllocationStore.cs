using System.Net;
using System.Text.Json;
using Spherelet.Agent.Persistence;
using Spherelet.Domain.Network;

namespace Spherelet.Agent.Network;

/// <summary>The node's network allocations as <c>&lt;Root&gt;/network/allocations.json</c>, written atomically (<see cref="AtomicFile"/>).</summary>
public sealed class FileNetworkAllocationStore : INetworkAllocationStore
{
    public const int CurrentVersion = 1;

    public FileNetworkAllocationStore(string root)
    {
        Path = System.IO.Path.Combine(root, "network", "allocations.json");
    }

    public string Path { get; }

    /// <exception cref="IOException">The file exists but cannot be used (it is left alone: allocations must never be forgotten silently).</exception>
    public async Task<NetworkAllocations?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        var problems = new List<string>();
        var file = await CheckpointFile.ReadAsync(Path, NetworkAllocationsJson.Default.NetworkAllocationsFile, f => f.Version, CurrentVersion, problems, cancellationToken)
            ?? throw new IOException(string.Join("; ", problems));
        try
        {
            return new NetworkAllocations(
                file.PodCidr is null ? null : IPNetwork.Parse(file.PodCidr),
                file.SegmentPrefixLength,
                file.Segments.Select(s => new NetworkSegment(
                    s.Namespace,
                    s.Vlan,
                    IPNetwork.Parse(s.Subnet),
                    IPAddress.Parse(s.Gateway),
                    s.NextHost,
                    s.SubnetV6 is null ? null : IPNetwork.Parse(s.SubnetV6),
                    s.GatewayV6 is null ? null : IPAddress.Parse(s.GatewayV6))).ToList(),
                file.Leases.Select(l => new PodLease(l.SandboxId, l.Namespace, IPAddress.Parse(l.Address), l.Mac, l.AddressV6 is null ? null : IPAddress.Parse(l.AddressV6))).ToList(),
                file.NextMacSerial,
                file.PodCidrV6 is null ? null : IPNetwork.Parse(file.PodCidrV6));
        }
        catch (FormatException e)
        {
            throw new IOException($"{Path}: an address or network cannot be read ({e.Message}); left alone", e);
        }
    }

    public Task SaveAsync(NetworkAllocations allocations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        var file = new NetworkAllocationsFile(
            CurrentVersion,
            allocations.PodCidr?.ToString(),
            allocations.SegmentPrefixLength,
            allocations.Segments.Select(s => new NetworkSegmentFile(s.Namespace, s.Vlan, s.Subnet.ToString(), s.Gateway.ToString(), s.NextHost, s.SubnetV6?.ToString(), s.GatewayV6?.ToString())).ToList(),
            allocations.Leases.Select(l => new PodLeaseFile(l.SandboxId, l.Namespace, l.Address.ToString(), l.Mac, l.AddressV6?.ToString())).ToList(),
            allocations.NextMacSerial,
            allocations.PodCidrV6?.ToString());
        return AtomicFile.WriteAsync(Path, JsonSerializer.SerializeToUtf8Bytes(file, NetworkAllocationsJson.Default.NetworkAllocationsFile), cancellationToken);
    }
}
