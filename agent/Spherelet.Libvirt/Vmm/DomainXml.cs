using System.Globalization;
using System.Xml.Linq;
using Spherelet.Domain.Node;
using Spherelet.Domain.Vmm;

namespace Spherelet.Libvirt.Vmm;

/// <summary>
/// Builds a pod VM's libvirt domain XML from typed values: q35, direct boot of the guest
/// kernel and initramfs, the pod share over virtio-9p, the CRX virtio-serial channel on a
/// Unix socket, the serial console to a file, virtio-rng (crun needs a seeded CRNG), a
/// memory balloon, and nothing else a pod does not need (no graphics, USB, disks or NIC yet).
/// The pod's identity goes into <c>&lt;metadata&gt;</c>.
/// </summary>
public static class DomainXml
{
    /// <summary>The XML namespace of Spherelet's domain metadata.</summary>
    public const string MetadataNamespace = "urn:spherelet:pod:1";

    private static readonly XNamespace Pod = MetadataNamespace;

    /// <param name="agentInstance">The agent instance that owns the VM (several agents may share one libvirtd).</param>
    public static string Build(VmSpec spec, DomainHostFacts host, string agentInstance)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(host);
        var domain = new XElement(
            "domain",
            new XAttribute("type", host.DomainType),
            new XElement("name", spec.Name),
            new XElement("uuid", spec.Uuid.ToString("D", CultureInfo.InvariantCulture)),
            new XElement("title", $"pod {spec.Owner.Namespace}/{spec.Owner.Name}"),
            new XElement("metadata", Metadata(spec.Owner, spec.Cgroup, agentInstance)),
            // Memory beyond what the VM boots with is plugged while it runs (virtio-mem): ordinary
            // memory up to the maximum, and hugepage memory. The VM boots with its current size only,
            // so memory it may grow to costs nothing until it is plugged.
            HotPluggable(spec, host)
                ? new XElement("maxMemory", new XAttribute("slots", MemoryDevices(spec, host)), new XAttribute("unit", "MiB"), spec.MemoryMiB + GrowthMiB(spec) + HugepagesMiB(spec, host))
                : null,
            new XElement("memory", new XAttribute("unit", "MiB"), spec.MemoryMiB),
            new XElement("currentMemory", new XAttribute("unit", "MiB"), spec.MemoryMiB),
            // vCPUs can grow up to the maximum (hot-plugged).
            spec.MaxVirtualCpus > spec.VirtualCpus
                ? new XElement("vcpu", new XAttribute("placement", "static"), new XAttribute("current", spec.VirtualCpus), spec.MaxVirtualCpus)
                : new XElement("vcpu", new XAttribute("placement", "static"), spec.VirtualCpus),
            new XElement(
                "os",
                new XElement("type", new XAttribute("arch", "x86_64"), new XAttribute("machine", "q35"), "hvm"),
                new XElement("kernel", spec.KernelPath),
                new XElement("initrd", spec.InitramfsPath),
                new XElement("cmdline", spec.KernelCommandLine)),
            new XElement("features", new XElement("acpi")),
            new XElement(
                "cpu",
                new XAttribute("mode", host.DomainType == "kvm" ? "host-passthrough" : "maximum"),
                new XAttribute("check", "none"),
                // Memory devices need a NUMA node to go to: one node with every vCPU and the VM's boot memory.
                HotPluggable(spec, host)
                    ? new XElement(
                        "numa",
                        new XElement(
                            "cell",
                            new XAttribute("id", 0),
                            new XAttribute("cpus", $"0-{Math.Max(spec.MaxVirtualCpus, spec.VirtualCpus) - 1}"),
                            new XAttribute("memory", spec.MemoryMiB),
                            new XAttribute("unit", "MiB")))
                    : null),
            new XElement("clock", new XAttribute("offset", "utc")),
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "destroy"),
            new XElement("on_crash", "destroy"),
            new XElement(
                "devices",
                new XElement("emulator", host.EmulatorPath),
                new XElement("controller", new XAttribute("type", "usb"), new XAttribute("model", "none")),
                new XElement(
                    "filesystem",
                    new XAttribute("type", "mount"),
                    new XAttribute("accessmode", "passthrough"),
                    // The share is a read-only mount of the pod's tree holding binds (volumes, image
                    // layers): keep inode numbers of different devices apart.
                    new XAttribute("multidevs", "remap"),
                    new XElement("source", new XAttribute("dir", spec.ShareDirectory)),
                    new XElement("target", new XAttribute("dir", spec.ShareTag))),
                new XElement(
                    "serial",
                    new XAttribute("type", "file"),
                    new XElement("source", new XAttribute("path", spec.ConsoleLogPath)),
                    new XElement("target", new XAttribute("port", 0))),
                new XElement(
                    "channel",
                    new XAttribute("type", "unix"),
                    new XElement("source", new XAttribute("mode", "bind"), new XAttribute("path", spec.ChannelSocketPath)),
                    new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", spec.ChannelName))),
                new XElement(
                    "rng",
                    new XAttribute("model", "virtio"),
                    new XElement("backend", new XAttribute("model", "random"), "/dev/urandom")),
                Nic(spec.Nic),
                GrowthMiB(spec) > 0
                    ? new XElement(
                        "memory",
                        new XAttribute("model", "virtio-mem"),
                        new XElement(
                            "target",
                            new XElement("size", new XAttribute("unit", "MiB"), GrowthMiB(spec)),
                            new XElement("node", 0),
                            new XElement("block", new XAttribute("unit", "KiB"), GrowthBlockKiB),
                            new XElement("requested", new XAttribute("unit", "MiB"), 0)))
                    : null,
                Hugepages(spec, host)
                    ? new XElement(
                        "memory",
                        new XAttribute("model", "virtio-mem"),
                        new XElement("source", new XElement("pagesize", new XAttribute("unit", "KiB"), 2048)),
                        new XElement(
                            "target",
                            new XElement("size", new XAttribute("unit", "MiB"), spec.HugepagesMaxMiB),
                            new XElement("node", 0),
                            new XElement("block", new XAttribute("unit", "KiB"), 2048),
                            new XElement("requested", new XAttribute("unit", "MiB"), 0)))
                    : null,
                // Spare PCIe root ports: host block devices are hot-plugged into them while the VM runs.
                // libvirt puts the VM's own PCI devices into the ports it finds first, so there is one
                // for each of those too (the root named first, so that libvirt numbers the ports after it).
                spec.BlockDeviceSlots > 0 ? new XElement("controller", new XAttribute("type", "pci"), new XAttribute("index", 0), new XAttribute("model", "pcie-root")) : null,
                Enumerable.Range(0, spec.BlockDeviceSlots > 0 ? PciDevices(spec, host) + spec.BlockDeviceSlots : 0)
                    .Select(_ => new XElement("controller", new XAttribute("type", "pci"), new XAttribute("model", "pcie-root-port"))),
                // Pages the guest frees go back to the host (free page reporting), as on the microvm backend.
                new XElement("memballoon", new XAttribute("model", "virtio"), new XAttribute("freePageReporting", "on"))),
            // QEMU runs as root: the 9p share passes file ownership through (image layers
            // keep their owners). Confinement is tightened later.
            new XElement(
                "seclabel",
                new XAttribute("type", "static"),
                new XAttribute("model", "dac"),
                new XAttribute("relabel", "no"),
                new XElement("label", "+0:+0")));
        return domain.ToString() + "\n";
    }

    /// <summary>The PCI devices the domain has besides hot-plugged disks: the 9p share, the virtio-serial controller, rng, NIC, balloon, growth and hugepage memory.</summary>
    public static int PciDevices(VmSpec spec, DomainHostFacts host)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return 1 + 1 + 1 + (spec.Nic is null ? 0 : 1) + 1 + (GrowthMiB(spec) > 0 ? 1 : 0) + (Hugepages(spec, host) ? 1 : 0);
    }

    /// <summary>The block size of the growth memory device: what the guest plugs at a time.</summary>
    public const int GrowthBlockKiB = 2048;

    /// <summary>
    /// The guest kernel's memory block (x86-64): a virtio-mem device's region must start and end on
    /// one, or the guest cannot use the block it straddles (and a device placed after it, such as
    /// the hugepage memory, none of its own).
    /// </summary>
    public const int GuestMemoryBlockMiB = 128;

    /// <summary>How much ordinary memory the VM can be given while it runs (whole guest memory blocks); 0: none.</summary>
    public static int GrowthMiB(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var growth = Math.Max(0, spec.MaxMemoryMiB - spec.MemoryMiB);
        return (growth + GuestMemoryBlockMiB - 1) / GuestMemoryBlockMiB * GuestMemoryBlockMiB;
    }

    private static int HugepagesMiB(VmSpec spec, DomainHostFacts host) => Hugepages(spec, host) ? spec.HugepagesMaxMiB : 0;

    private static bool HotPluggable(VmSpec spec, DomainHostFacts host) => MemoryDevices(spec, host) > 0;

    /// <summary>The virtio-mem devices (each takes one of libvirt's memory slots): growth and hugepage memory.</summary>
    private static int MemoryDevices(VmSpec spec, DomainHostFacts host) => (GrowthMiB(spec) > 0 ? 1 : 0) + (Hugepages(spec, host) ? 1 : 0);

    /// <summary>The VM gets hugepage memory to plug: it may have some and the host has 2 MiB hugepages.</summary>
    public static bool Hugepages(VmSpec spec, DomainHostFacts host)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(host);
        return spec.HugepagesMaxMiB > 0 && host.Hugepages;
    }

    /// <summary>A host block device as a virtio disk (hot-plugged), found in the guest by its serial.</summary>
    public static string Disk(VmDisk disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        return new XElement(
            "disk",
            new XAttribute("type", "block"),
            new XAttribute("device", "disk"),
            new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "raw"), new XAttribute("cache", "none"), new XAttribute("io", "native")),
            new XElement("source", new XAttribute("dev", disk.HostPath)),
            new XElement("target", new XAttribute("dev", disk.Target), new XAttribute("bus", "virtio")),
            new XElement("serial", disk.Serial),
            disk.ReadOnly ? new XElement("readonly") : null).ToString();
    }

    /// <summary>
    /// The owner recorded in a domain's metadata element, or null when it is not Spherelet's,
    /// is incomplete, or belongs to another agent instance.
    /// </summary>
    public static VmOwner? ParseOwner(string? metadataXml, string agentInstance)
    {
        if (string.IsNullOrEmpty(metadataXml))
        {
            return null;
        }

        try
        {
            var pod = XElement.Parse(metadataXml);
            // libvirt hands the element back without its namespace: match local names.
            string? Value(string name) => pod.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
            if (Value("agent") != agentInstance
                || Value("sandbox") is not { Length: > 0 } id
                || !uint.TryParse(Value("attempt"), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt))
            {
                return null;
            }

            return new VmOwner(id, Value("namespace") ?? string.Empty, Value("name") ?? string.Empty, Value("uid") ?? string.Empty, attempt);
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    /// <summary>
    /// Where the VM's processes were put on the host (recorded so that the cgroup is removed with
    /// the VM, also after an agent restart), or null when the domain is not this agent's or has none.
    /// </summary>
    public static VmCgroup? ParseCgroup(string? metadataXml, string agentInstance)
    {
        if (string.IsNullOrEmpty(metadataXml) || ParseOwner(metadataXml, agentInstance) is null)
        {
            return null;
        }

        var cgroup = XElement.Parse(metadataXml).Elements().FirstOrDefault(e => e.Name.LocalName == "cgroup");
        if (cgroup is null || cgroup.Value.Length == 0
            || !Enum.TryParse<CgroupDriver>((string?)cgroup.Attribute("driver"), ignoreCase: true, out var driver))
        {
            return null;
        }

        return new VmCgroup(driver, cgroup.Value, long.TryParse((string?)cgroup.Attribute("cpuShares"), NumberStyles.None, CultureInfo.InvariantCulture, out var shares) ? shares : 0);
    }

    private static XElement Metadata(VmOwner owner, VmCgroup? cgroup, string agentInstance) =>
        new(
            Pod + "pod",
            new XAttribute(XNamespace.Xmlns + "spherelet", MetadataNamespace),
            new XElement(Pod + "agent", agentInstance),
            new XElement(Pod + "sandbox", owner.SandboxId),
            new XElement(Pod + "namespace", owner.Namespace),
            new XElement(Pod + "name", owner.Name),
            new XElement(Pod + "uid", owner.Uid),
            new XElement(Pod + "attempt", owner.Attempt),
            cgroup is null
                ? null
                : new XElement(
                    Pod + "cgroup",
                    new XAttribute("driver", cgroup.Driver.ToString().ToLowerInvariant()),
                    new XAttribute("cpuShares", cgroup.CpuShares),
                    cgroup.Parent));

    /// <summary>The pod's NIC: a virtio NIC whose host side is an OVS port in the segment's VLAN (libvirt adds it to the bridge and tags it).</summary>
    private static XElement? Nic(VmNic? nic) =>
        nic is null
            ? null
            : new XElement(
                "interface",
                new XAttribute("type", "bridge"),
                new XElement("mac", new XAttribute("address", nic.Mac)),
                new XElement("source", new XAttribute("bridge", nic.Bridge)),
                new XElement("virtualport", new XAttribute("type", "openvswitch"), new XElement("parameters", new XAttribute("interfaceid", nic.InterfaceId.ToString("D", CultureInfo.InvariantCulture)))),
                new XElement("vlan", new XElement("tag", new XAttribute("id", nic.Vlan))),
                new XElement("target", new XAttribute("dev", nic.PortName)),
                new XElement("model", new XAttribute("type", "virtio")),
                nic.ChecksumOffload
                    ? null
                    : new XElement(
                        "driver",
                        new XAttribute("name", "qemu"),
                        new XElement("host", new XAttribute("csum", "off"), new XAttribute("gso", "off"), new XAttribute("tso4", "off"), new XAttribute("tso6", "off"), new XAttribute("ecn", "off"), new XAttribute("ufo", "off"))),
                new XElement("mtu", new XAttribute("size", nic.Mtu)));
}
