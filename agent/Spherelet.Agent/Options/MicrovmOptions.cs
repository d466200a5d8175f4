namespace Spherelet.Agent.Options;

/// <summary>The microvm backend (runtime handlers with <c>Vmm</c> microvm): how its QEMUs are confined.</summary>
public sealed class MicrovmOptions
{
    /// <summary>
    /// The first host uid and gid given to microvm QEMUs: the VM in slot N runs as
    /// <c>FirstId + N * 65536</c>. No other process or file on the host may use ids from there on.
    /// </summary>
    public uint FirstId { get; set; } = Spherelet.Microvm.MicrovmSettings.DefaultFirstId;

    /// <summary>How many microvm pod VMs may run at once.</summary>
    public int MaxVms { get; set; } = 4096;
}
