using System.Collections.Concurrent;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Sandboxes;

/// <summary>A pod network in memory (the real one is tested on Open vSwitch): attaches pods only when it has a pod CIDR.</summary>
internal sealed class FakePodNetwork : IPodNetwork
{
    public bool HasPodCidr { get; set; }

    public ConcurrentDictionary<string, PodNetworkAttachment> Attached { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, PodSandboxMetadata> Labelled { get; } = new(StringComparer.Ordinal);

    public Task<PodNetworkAttachment?> AttachAsync(string sandboxId, PodSandboxMetadata metadata, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken)
    {
        if (!HasPodCidr)
        {
            return Task.FromResult<PodNetworkAttachment?>(null);
        }

        var attachment = Attached.GetOrAdd(sandboxId, id => new PodNetworkAttachment(
            "br-test", "sphp" + id[..11], "02:53:50:00:00:01", 100, $"10.244.1.{Attached.Count + 2}", 26, "10.244.1.1", Guid.NewGuid(), 1500));
        return Task.FromResult<PodNetworkAttachment?>(attachment);
    }

    public ConcurrentDictionary<string, PodNetworkAttachment> Secured { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, PodNetworkAttachment> Plugged { get; } = new(StringComparer.Ordinal);

    public Task PlugPortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        Plugged[sandboxId] = attachment;
        return Task.CompletedTask;
    }

    public Task SecurePortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        Secured[sandboxId] = attachment;
        return Task.CompletedTask;
    }

    public Task LabelPortAsync(string sandboxId, PodSandboxMetadata metadata, PodNetworkAttachment attachment, CancellationToken cancellationToken)
    {
        Labelled[sandboxId] = metadata;
        return Task.CompletedTask;
    }

    public Task DetachAsync(string sandboxId, CancellationToken cancellationToken)
    {
        Attached.TryRemove(sandboxId, out _);
        return Task.CompletedTask;
    }

    public Task RecoverAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken)
    {
        foreach (var id in Attached.Keys.Where(id => !sandboxIds.Contains(id)))
        {
            Attached.TryRemove(id, out _);
        }

        return Task.CompletedTask;
    }
}
