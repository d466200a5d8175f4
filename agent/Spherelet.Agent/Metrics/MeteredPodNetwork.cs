using System.Diagnostics;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Metrics;

/// <summary>The pod network, with each pod's attach timed (the network_attach phase).</summary>
public sealed class MeteredPodNetwork(IPodNetwork inner, PodStartMetrics metrics) : IPodNetwork
{
    public async Task<PodNetworkAttachment?> AttachAsync(
        string sandboxId, PodSandboxMetadata metadata, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var attachment = await inner.AttachAsync(sandboxId, metadata, ports, cancellationToken);
        if (attachment is not null)
        {
            // A node without a pod CIDR attaches nothing: no phase to count.
            metrics.Observe(PodStartMetrics.NetworkAttach, started);
        }

        return attachment;
    }

    public Task PlugPortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken) =>
        inner.PlugPortAsync(sandboxId, attachment, cancellationToken);

    public Task SecurePortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken) =>
        inner.SecurePortAsync(sandboxId, attachment, cancellationToken);

    public Task LabelPortAsync(string sandboxId, PodSandboxMetadata metadata, PodNetworkAttachment attachment, CancellationToken cancellationToken) =>
        inner.LabelPortAsync(sandboxId, metadata, attachment, cancellationToken);

    public Task DetachAsync(string sandboxId, CancellationToken cancellationToken) => inner.DetachAsync(sandboxId, cancellationToken);

    public Task RecoverAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken) => inner.RecoverAsync(sandboxIds, cancellationToken);
}
