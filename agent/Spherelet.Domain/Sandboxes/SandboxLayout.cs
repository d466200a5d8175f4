using System.Text;

namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// Where a sandbox's files live. Persistent, under the root: <c>pods/ID/sandbox.json</c>
/// (the checkpoint), <c>pods/ID/share/</c> (the 9p pod share), <c>pods/ID/console.log</c>.
/// Volatile, under the state directory: <c>vm/VMNAME/crx.sock</c> (the CRX channel).
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

    public string Share(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "share");

    public string ConsoleLog(string sandboxId) => Path.Combine(PodDirectory(sandboxId), "console.log");

    public string VmDirectory(string vmName) => Path.Combine(VmsDirectory, vmName);

    public string ChannelSocket(string vmName) => Path.Combine(VmDirectory(vmName), "crx.sock");
}
