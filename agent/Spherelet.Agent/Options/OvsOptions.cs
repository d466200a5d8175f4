namespace Spherelet.Agent.Options;

/// <summary>Where Open vSwitch is reached.</summary>
public sealed class OvsOptions
{
    /// <summary>The OVSDB server's Unix socket.</summary>
    public string DbSocket { get; set; } = "/run/openvswitch/db.sock";

    /// <summary>The directory holding ovs-vswitchd's pid file.</summary>
    public string RunDirectory { get; set; } = "/run/openvswitch";
}
