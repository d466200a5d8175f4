using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>libvirt's qemu.conf as the checks read it.</summary>
internal static class QemuConf
{
    public const string DefaultPath = "/etc/libvirt/qemu.conf";

    /// <summary>The file's text, or the warning that it cannot be read.</summary>
    public static (string? Text, HostCheckResult? Unreadable) Read(string path, string check, HealthArea area)
    {
        try
        {
            return (File.ReadAllText(path), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, HostCheckResult.Warn(check, area, $"cannot read {path}: {e.Message}", $"make {path} readable to the agent"));
        }
    }
}
