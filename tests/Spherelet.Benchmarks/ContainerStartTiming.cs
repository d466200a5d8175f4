namespace Spherelet.Benchmarks;

/// <summary>
/// One pod with one container started through CRI, times in ms from just before RunPodSandbox:
/// when each call returned, and when the container's first log line reached the host.
/// </summary>
internal sealed record ContainerStartTiming(
    string PodId, string ContainerId, double SandboxReadyMs, double CreatedMs, double StartReturnedMs, double FirstLogLineMs);
