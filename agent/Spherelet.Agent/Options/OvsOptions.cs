namespace Spherelet.Agent.Options;

/// <summary>Where Open vSwitch is reached.</summary>
public sealed class OvsOptions
{
    /// <summary>The OVSDB server's Unix socket.</summary>
    public string DbSocket { get; set; } = "/run/openvswitch/db.sock";

    /// <summary>The directory holding ovs-vswitchd's pid file.</summary>
    public string RunDirectory { get; set; } = "/run/openvswitch";

    /// <summary>The integration bridge every pod VM's NIC is a port of.</summary>
    public string Bridge { get; set; } = "br-spherelet";

    /// <summary>The bridge's datapath: <c>auto</c> (<c>system</c> where the kernel has the openvswitch module, else <c>netdev</c>), <c>system</c> or <c>netdev</c>.</summary>
    public string Datapath { get; set; } = "auto";

    /// <summary>The datapath bridges get: <see cref="Datapath"/> unless it is <c>auto</c>, then <c>system</c> where the kernel has the openvswitch module (<paramref name="moduleDirectory"/> exists), else <c>netdev</c>.</summary>
    public string ResolveDatapath(string moduleDirectory = "/sys/module/openvswitch") =>
        Datapath != "auto" ? Datapath : Directory.Exists(moduleDirectory) ? "system" : "netdev";

    /// <summary>The prefix length of each namespace segment's subnet, carved from the node's pod CIDR.</summary>
    public int SegmentPrefixLength { get; set; } = 26;

    /// <summary>The first VLAN tag a segment may get.</summary>
    public int FirstVlan { get; set; } = 100;

    /// <summary>The last VLAN tag a segment may get.</summary>
    public int LastVlan { get; set; } = 4094;
}
