using Spherelet.Domain.Vmm;

namespace Spherelet.Microvm;

/// <summary>
/// What the backend keeps of one VM in <c>STATE/microvm/NAME.json</c> (root's, out of the VM's reach):
/// whose it is, the QEMU process (its pid and start time, so a reused pid is never taken for it), its id
/// slot, tap and cgroup. Written before the VM runs, removed when it is deleted.
/// </summary>
public sealed record MicrovmRecord
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required string Agent { get; init; }

    public required string Name { get; init; }

    public required Guid Uuid { get; init; }

    public required VmOwner Owner { get; init; }

    public required int Slot { get; init; }

    public required uint Uid { get; init; }

    public int Pid { get; init; }

    /// <summary>The process's start time in clock ticks since boot (<c>/proc/PID/stat</c> field 22).</summary>
    public ulong StartTicks { get; init; }

    public required int VirtualCpus { get; init; }

    public required int MemoryMiB { get; init; }

    /// <summary>The tap the VM's NIC is on; null for none.</summary>
    public string? Tap { get; init; }

    public VmCgroup? Cgroup { get; init; }

    /// <summary>The host directory QEMU has as its <c>/run</c>: its QMP, console and CRX sockets.</summary>
    public required string RunDirectory { get; init; }

    /// <summary>Where the agent writes the VM's serial console.</summary>
    public required string ConsoleLogPath { get; init; }
}
