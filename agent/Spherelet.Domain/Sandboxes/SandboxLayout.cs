using System.Text;

namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// Where a sandbox's files live. Persistent, under the root: <c>pods/ID/sandbox.json</c>
/// (the checkpoint), <c>pods/ID/tree/</c> (the agent's own tree of the pod share: mount points of
/// volumes and layers), <c>pods/ID/share/</c> (the 9p pod share: the tree bound read-only,
/// with the volumes and layers bound in it), <c>pods/ID/console.log</c>,
/// <c>pods/ID/containers/CID.json</c> (container checkpoints). In the share: <c>volumes/CID/N</c>
/// (a container's host path mounts), <c>layers/NAME</c> (image layers); never the kubelet's log
/// directory (the agent writes the CRI log files). Volatile, under the state directory: <c>vm/VMNAME/crx.sock</c> (the CRX channel).
/// </summary>
public sealed class SandboxLayout
{
    /// <summary>Linux's sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    public const string VmNamePrefix = "sph-";

    public SandboxLayout(string root, string state)
    {
        PodsDirectory = Path.Combine(root, "pods");
        VmsDirectory = Path.Combine(state, "vm");
        var longest = ChannelSocket(VmNamePrefix + new string('f', 12));
        if (Encoding.UTF8.GetByteCount(longest) > MaxSocketPathBytes)
        {
            throw new ArgumentException($"the state directory '{state}' is too long: '{longest}' exceeds the {MaxSocketPathBytes} bytes of a Unix socket path", nameof(state));
        }
    }

    public string PodsDirectory { get; }

    public string VmsDirectory { get; }

    public static string VmName(string sandboxId) => VmNamePrefix + sandboxId[..12];

    public string PodDirectory(string sandboxId) => Path.Combine(PodsDirectory, sandboxId);

    public string Checkpoint(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "sandbox.json");

    /// <summary>The pod share the VM sees at /pod: a read-only mount of <see cref="Tree"/>.</summary>
    public string Share(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "share");

    /// <summary>The agent's own tree that the share shows; never exported writable, never seen by the guest by this path.</summary>
    public string Tree(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "tree");

    /// <summary>The container checkpoints of a sandbox: <c>pods/ID/containers/CID.json</c>.</summary>
    public string ContainersDirectory(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "containers");

    public string ContainerCheckpoint(string sandboxId, string containerId) => Path.Combine(ContainersDirectory(sandboxId), containerId + ".json");

    /// <summary>The folder of the pod share that holds the containers' host path mounts.</summary>
    public const string VolumesDirectoryName = "volumes";

    /// <summary>The folder of the pod share that holds the image layers of the pod's containers.</summary>
    public const string LayersDirectoryName = "layers";

    public string ConsoleLog(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "console.log");

    public string VmDirectory(string vmName) => Path.Combine(VmsDirectory, vmName);

    public string ChannelSocket(string vmName) => Path.Combine(VmDirectory(vmName), "crx.sock");
}
