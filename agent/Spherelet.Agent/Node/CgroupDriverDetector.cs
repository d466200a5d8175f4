using Spherelet.Domain.Node;

namespace Spherelet.Agent.Node;

/// <summary>Finds the host's cgroup driver: systemd when systemd is the init system, else cgroupfs.</summary>
public static class CgroupDriverDetector
{
    /// <param name="configured">auto, systemd or cgroupfs (already validated).</param>
    /// <param name="systemdRunDirectory">Exists only when systemd booted the host (sd_booted's test).</param>
    public static CgroupDriver Resolve(string configured, string systemdRunDirectory = "/run/systemd/system") =>
        configured switch
        {
            "systemd" => CgroupDriver.Systemd,
            "cgroupfs" => CgroupDriver.Cgroupfs,
            _ => Directory.Exists(systemdRunDirectory) ? CgroupDriver.Systemd : CgroupDriver.Cgroupfs,
        };
}
