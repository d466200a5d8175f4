namespace Spherelet.Microvm;

/// <summary>How the microvm backend runs and confines its QEMUs (validated and resolved by the agent at start).</summary>
public sealed record MicrovmSettings
{
    /// <summary>The QEMU system emulator.</summary>
    public required string QemuPath { get; init; }

    /// <summary>The backend's own volatile files (<c>STATE/microvm</c>): one record per VM and the jails' mount point.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>This agent's instance id, written into every VM's record (several agents may share a host).</summary>
    public required string AgentInstance { get; init; }

    /// <summary>
    /// The first host uid and gid given to pod VMs: the VM in slot N runs its QEMU as
    /// <c>FirstId + N * IdsPerVm</c>, an id no other process on the host has.
    /// </summary>
    public uint FirstId { get; init; } = DefaultFirstId;

    /// <summary>How many ids each VM's slot spans (room for a user namespace of its own).</summary>
    public uint IdsPerVm { get; init; } = 65536;

    /// <summary>How many pod VMs of this backend can run at once (slots).</summary>
    public int MaxVms { get; init; } = 4096;

    /// <summary>"kvm" where /dev/kvm works, else "tcg".</summary>
    public required string Accelerator { get; init; }

    /// <summary>The host TSC's frequency in kHz, given to guests under TCG (a microvm has no timer to calibrate it against); 0: unknown.</summary>
    public long TscKhz { get; init; }

    /// <summary>Well above the ids of users, containers and the kubelet's user namespaces (which start at 65536 and stay below 2^31).</summary>
    public const uint DefaultFirstId = 3_000_000_000;

    /// <summary>The uid and gid of the VM in <paramref name="slot"/>.</summary>
    public uint IdOf(int slot) => checked(FirstId + ((uint)slot * IdsPerVm));
}
