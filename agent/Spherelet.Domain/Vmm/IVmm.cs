namespace Spherelet.Domain.Vmm;

/// <summary>
/// A VMM backend: starts, stops and deletes pod VMs and tells when one stops on its own.
/// Small on purpose: libvirt's q35 domains and QEMU run directly as a confined microvm are two
/// rooms behind it (<see cref="VmmRegistry"/>), and a warm pool would be a third.
/// Every method is idempotent where its name allows: stopping a stopped VM or deleting a
/// deleted one succeeds.
/// </summary>
public interface IVmm
{
    /// <summary>The backend's name: what runtime handlers choose it by, recorded in every sandbox it runs ("libvirt", "microvm").</summary>
    string Name { get; }

    /// <summary>
    /// Whether the backend puts the VM's NIC on the switch itself (libvirt's OVS virtualport); when
    /// false, the network room plugs the tap the backend made before the VM runs.
    /// </summary>
    bool PlugsNic { get; }

    /// <summary>
    /// Whether a running VM can be given more vCPUs and memory (<see cref="ResizeAsync"/>). When false,
    /// pod VMs keep the size they started with, and container limits cap within it.
    /// </summary>
    bool Grows { get; }

    /// <summary>Waits until the backend can serve (libvirt: connected to libvirtd); recovery retries while it throws.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="handler"/> whenever the backend was unreachable for a while and is back
    /// (stop events may have been lost meanwhile).
    /// </summary>
    IDisposable WatchReconnects(Action handler);

    /// <summary>
    /// Reserves what a VM of that name will run under, before anything of its pod is made: the host
    /// ids its VMM and its pod share are mapped to (<see cref="VmIdMap"/>), or null when the backend
    /// maps none. <see cref="DeleteAsync"/> releases it.
    /// </summary>
    /// <exception cref="Errors.ObjectAlreadyExistsException">A VM of that name exists.</exception>
    /// <exception cref="Errors.PreconditionFailedException">The backend has no ids left.</exception>
    Task<VmIdMap?> ReserveAsync(string vmName, CancellationToken cancellationToken);

    /// <summary>
    /// Creates and boots a VM; <paramref name="beforeRun"/>, when given, runs once the VM exists
    /// (its NIC's tap made, and on the switch when <see cref="PlugsNic"/>) and before it runs its
    /// first instruction. The backend adds its own kernel arguments to <see cref="VmSpec.KernelCommandLine"/>.
    /// On failure nothing of it is left.
    /// </summary>
    /// <exception cref="Errors.ObjectAlreadyExistsException">A VM of that name exists.</exception>
    /// <returns>Where the agent reaches the VM's CRX (<see cref="GuestEndpoints"/> holds it by sandbox id).</returns>
    Task<GuestEndpoint> StartAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken);

    /// <summary>Powers a VM off at once (the guest was asked to shut down before, if at all).</summary>
    /// <returns>False when it was not running (or does not exist).</returns>
    Task<bool> StopAsync(string vmName, CancellationToken cancellationToken);

    /// <summary>Stops a VM if it runs and removes it from the VMM.</summary>
    Task DeleteAsync(string vmName, CancellationToken cancellationToken);

    /// <summary>
    /// Grows a running VM to <paramref name="virtualCpus"/> vCPUs (hot-plugged) and
    /// <paramref name="memoryMiB"/> of memory (its balloon let out), each within the maximum it was
    /// defined with; the new size also holds after a restart of the VM.
    /// </summary>
    /// <exception cref="Errors.ObjectNotFoundException">No such VM.</exception>
    Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a new CPU weight and host cpusets to a running VM that was started under a pod cgroup
    /// (<see cref="VmSpec.Cgroup"/>); <paramref name="cgroup"/> names the same place.
    /// </summary>
    /// <exception cref="Errors.ObjectNotFoundException">No such VM.</exception>
    Task UpdateCgroupAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken);

    /// <summary>Hot-plugs a host block device into a running VM as a virtio disk whose serial is <see cref="VmDisk.Serial"/>.</summary>
    /// <exception cref="Errors.ObjectNotFoundException">No such VM.</exception>
    /// <exception cref="Errors.PreconditionFailedException">The VM has no free slot.</exception>
    Task AttachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken);

    /// <summary>Unplugs a disk from a running VM (the guest is asked to let go). Detaching a missing disk succeeds.</summary>
    Task DetachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a running VM <paramref name="mebibytes"/> of memory backed by 2 MiB host hugepages in all
    /// (it never shrinks), for the guest to make hugepages of.
    /// </summary>
    /// <exception cref="Errors.PreconditionFailedException">The VM has no hugepage memory (the host had none), the size is beyond its maximum, or the host has too few free hugepages.</exception>
    Task GrowHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken);

    /// <summary>The VM's state, or null when the VMM has no VM of that name.</summary>
    Task<VmStatus?> InspectAsync(string vmName, CancellationToken cancellationToken);

    /// <summary>Every VM of this VMM that Spherelet made (running or not).</summary>
    Task<IReadOnlyList<VmStatus>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="handler"/> whenever a VM stops, for whatever reason (its guest
    /// powered off, it crashed, someone destroyed it outside Spherelet), across VMM restarts.
    /// </summary>
    IDisposable WatchStops(Action<VmStopped> handler);
}
