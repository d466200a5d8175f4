namespace Spherelet.Domain.Containers;

/// <summary>One container of a pod sandbox: what the kubelet asked for, and its state. Immutable; the store swaps whole values.</summary>
public sealed record Container
{
    /// <summary>64 hex digits.</summary>
    public required string Id { get; init; }

    public required string SandboxId { get; init; }

    public required ContainerMetadata Metadata { get; init; }

    public required ContainerImage Image { get; init; }

    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public required IReadOnlyDictionary<string, string> Annotations { get; init; }

    /// <summary>The log path as the kubelet gave it (relative to the pod's log directory); empty for none.</summary>
    public required string LogPath { get; init; }

    /// <summary>The log file on the host (the pod's log directory joined with <see cref="LogPath"/>); empty for none.</summary>
    public required string HostLogPath { get; init; }

    public required bool Tty { get; init; }

    public required bool Stdin { get; init; }

    public required bool StdinOnce { get; init; }

    public required IReadOnlyList<ContainerMount> Mounts { get; init; }

    /// <summary>The signal StopContainer sends first (from the request, else the image, else SIGTERM).</summary>
    public required int StopSignal { get; init; }

    /// <summary>The OCI process of the container's spec (JSON): the template of its execs (env, cwd, user, capabilities).</summary>
    public required string ProcessJson { get; init; }

    /// <summary>The OCI <c>linux.resources</c> in force (JSON).</summary>
    public required string ResourcesJson { get; init; }

    /// <summary>The host CPUs and memory nodes the container may use (they bind its pod's VM, not the guest).</summary>
    public HostCpuset HostCpuset { get; init; } = HostCpuset.Any;

    /// <summary>The host block devices (resolved paths) the pod's VM holds for this container.</summary>
    public IReadOnlyList<string> BlockDevices { get; init; } = [];

    public required ContainerState State { get; init; }

    /// <summary>Unix nanoseconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Unix nanoseconds; 0 until started.</summary>
    public long StartedAt { get; init; }

    /// <summary>Unix nanoseconds; 0 until exited.</summary>
    public long FinishedAt { get; init; }

    public int ExitCode { get; init; }

    /// <summary><c>Completed</c>, <c>Error</c> or <c>OOMKilled</c> once exited.</summary>
    public string Reason { get; init; } = string.Empty;

    public string Message { get; init; } = string.Empty;

    /// <summary>The main process's pid in the VM (0 when not known).</summary>
    public int Pid { get; init; }

    /// <summary>The reasons CRI reports for an exited container.</summary>
    public static class Reasons
    {
        public const string Completed = "Completed";
        public const string Error = "Error";
        public const string OomKilled = "OOMKilled";
    }
}
