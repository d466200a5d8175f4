namespace Spherelet.Domain.Containers;

/// <summary>
/// The containers inside a pod VM, run by its CRX. Each call names the pod; its CRX is found at the
/// endpoint its backend registered (<see cref="Vmm.GuestEndpoints"/>), the connection opened (or
/// opened again) as needed. Failures are the domain's
/// typed errors (a lost guest is <see cref="Errors.GuestUnavailableException"/>).
/// </summary>
public interface IGuestContainers
{
    /// <summary>Writes the bundle, mounts the root file system and has crun create the container; returns its pid.</summary>
    Task<int> CreateAsync(string sandboxId, GuestContainerCreate create, CancellationToken cancellationToken);

    Task StartAsync(string sandboxId, string containerId, CancellationToken cancellationToken);

    /// <summary>Signals the container's main process (nothing happens when it has exited).</summary>
    Task SignalAsync(string sandboxId, string containerId, int signal, CancellationToken cancellationToken);

    /// <summary>Waits for the main process to exit; answers at once for one that has exited already.</summary>
    Task<ContainerExit> WaitAsync(string sandboxId, string containerId, CancellationToken cancellationToken);

    /// <summary>Kills the container's processes, unmounts its root file system and deletes it; an unknown container is fine.</summary>
    Task RemoveAsync(string sandboxId, string containerId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="processJson"/> (an OCI process) in the running container and collects
    /// its output, each stream capped at <paramref name="maxOutputBytes"/> (the rest is dropped and
    /// a marker says so). When <paramref name="timeout"/> (if not infinite) passes first, the process is killed.
    /// </summary>
    Task<ExecResult> ExecSyncAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, int maxOutputBytes, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Starts <paramref name="processJson"/> (an OCI process; <c>terminal</c> set for a terminal) in the
    /// running container with its stdio attached to the returned session.
    /// </summary>
    Task<IInteractiveProcess> ExecInteractiveAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, bool tty, bool stdin, CancellationToken cancellationToken);

    /// <summary>Attaches a session to the container's main process: its output from now on, its stdin when open, its exit.</summary>
    Task<IInteractiveProcess> AttachAsync(string sandboxId, string containerId, bool tty, CancellationToken cancellationToken);

    /// <summary>
    /// Applies an OCI <c>linux.resources</c> object (JSON) to the container's cgroup, after bringing
    /// <paramref name="onlineCpus"/> CPUs of the VM online (vCPUs hot-plugged by a grow).
    /// </summary>
    Task UpdateResourcesAsync(string sandboxId, string containerId, ReadOnlyMemory<byte> resourcesJson, int onlineCpus, CancellationToken cancellationToken);

    /// <summary>Follows the container's log spool (its output not yet written on the host, then new output).</summary>
    Task<IGuestLog> FollowLogAsync(string sandboxId, string containerId, uint windowBytes, CancellationToken cancellationToken);

    /// <summary>Usage of the VM and of the given containers (every container when none is given).</summary>
    Task<PodUsage> StatsAsync(string sandboxId, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken);
}
