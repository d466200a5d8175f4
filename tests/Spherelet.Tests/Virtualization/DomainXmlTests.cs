using System.Diagnostics;
using Spherelet.Libvirt.Vmm;
using Spherelet.Domain.Vmm;

namespace Spherelet.Tests.Virtualization;

/// <summary>The pod VM's domain XML, checked against golden files (set SPHERELET_UPDATE_GOLDEN=1 to rewrite them).</summary>
public sealed class DomainXmlTests
{
    private static readonly VmSpec Spec = new()
    {
        Name = "sph-0123456789ab",
        Uuid = Guid.Parse("6f1c2b9e-0d7a-4c3e-9b1f-2a4d5e6f7a8b"),
        Owner = new VmOwner("0123456789ab" + new string('c', 52), "team-a", "web-0", "5d0c7e2a-1111-2222-3333-444455556666", 2),
        VirtualCpus = 2,
        MemoryMiB = 384,
        KernelPath = "/usr/local/lib/spherelet/guest/vmlinuz",
        InitramfsPath = "/usr/local/lib/spherelet/guest/initramfs.img",
        KernelCommandLine = "console=ttyS0 panic=-1 quiet random.trust_cpu=on spherelet.share=pod spherelet.channel=io.spherelet.crx.0",
        ShareDirectory = "/var/lib/spherelet/pods/0123456789abcc/share",
        ShareTag = "pod",
        ChannelSocketPath = "/run/spherelet/vm/sph-0123456789ab/crx.sock",
        ChannelName = "io.spherelet.crx.0",
        ConsoleLogPath = "/var/lib/spherelet/pods/0123456789abcc/console.log",
    };

    [Theory]
    [InlineData("qemu", "pod-vm-tcg.xml")]
    [InlineData("kvm", "pod-vm-kvm.xml")]
    public void Pod_vm_domain_xml_matches_its_golden_file(string domainType, string golden)
    {
        var xml = DomainXml.Build(Spec, new DomainHostFacts(domainType, "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd");

        var expectedPath = Path.Combine(AppContext.BaseDirectory, "Virtualization", "Golden", golden);
        if (Environment.GetEnvironmentVariable("SPHERELET_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), golden), xml);
            return;
        }

        Assert.Equal(File.ReadAllText(expectedPath), xml);
    }

    [Fact]
    public void Domain_xml_carries_what_crun_and_crx_need()
    {
        var xml = DomainXml.Build(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd");

        Assert.Contains("<rng model=\"virtio\">", xml, StringComparison.Ordinal);
        Assert.Contains("random.trust_cpu=on", xml, StringComparison.Ordinal);
        Assert.Contains("<target type=\"virtio\" name=\"io.spherelet.crx.0\" />", xml, StringComparison.Ordinal);
        // One 9p share, the pod's: the image layers are bound inside it, none of the node's others is exported.
        var filesystems = System.Xml.Linq.XElement.Parse(xml).Descendants("filesystem").ToList();
        Assert.Equal(Spec.ShareDirectory, Assert.Single(filesystems).Element("source")!.Attribute("dir")!.Value);
        Assert.DoesNotContain("<graphics", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<disk", xml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vm_that_can_grow_boots_with_its_current_size_and_a_virtio_mem_device_for_the_rest()
    {
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(
            Spec with { MaxVirtualCpus = 4, MaxMemoryMiB = 1024 }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));

        // It boots with its current memory; the rest is a virtio-mem device with nothing plugged yet.
        var growth = Assert.Single(xml.Element("devices")!.Elements("memory"));
        Assert.Equal(Spec.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture), xml.Element("memory")!.Value);
        Assert.Equal(Spec.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture), xml.Element("currentMemory")!.Value);
        Assert.Equal("1024", xml.Element("maxMemory")!.Value); // 384 + 640
        Assert.Equal(Spec.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture), xml.Element("cpu")!.Element("numa")!.Element("cell")!.Attribute("memory")!.Value);
        Assert.Equal("virtio-mem", growth.Attribute("model")!.Value);
        Assert.Null(growth.Element("source"));
        // 1024 - 384 = 640 MiB: five whole 128 MiB guest memory blocks.
        Assert.Equal("640", growth.Element("target")!.Element("size")!.Value);
        Assert.Equal("0", growth.Element("target")!.Element("requested")!.Value);
        Assert.Equal("4", xml.Element("vcpu")!.Value);
        Assert.Equal(Spec.VirtualCpus.ToString(System.Globalization.CultureInfo.InvariantCulture), xml.Element("vcpu")!.Attribute("current")!.Value);
    }

    [Fact]
    public void A_vm_that_can_grow_and_take_hugepages_has_a_memory_slot_for_each_virtio_mem_device()
    {
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(
            Spec with { MaxMemoryMiB = 1000, HugepagesMaxMiB = 128 }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64", Hugepages: true), "00112233aabbccdd"));

        var devices = xml.Element("devices")!.Elements("memory").ToList();
        Assert.Equal(2, devices.Count);
        Assert.Equal("2", xml.Element("maxMemory")!.Attribute("slots")!.Value);
        // 1000 - 384 = 616 MiB of growth rounded up to 640 (whole 128 MiB guest blocks), so the hugepage memory after it starts on a block.
        Assert.Equal("1152", xml.Element("maxMemory")!.Value);
        Assert.Equal("640", devices.Single(d => d.Element("source") is null).Element("target")!.Element("size")!.Value);
        Assert.Single(devices, d => d.Element("source")?.Element("pagesize") is not null);
    }

    [Fact]
    public void A_pod_on_the_network_gets_a_virtio_nic_on_an_ovs_port_in_its_segments_vlan_with_the_networks_mtu()
    {
        var nic = new Spherelet.Domain.Vmm.VmNic("br-spherelet", "sphp0123456789a", "02:53:50:00:00:07", 101, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), 1400);
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec with { Nic = nic }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));

        var element = Assert.Single(xml.Element("devices")!.Elements("interface"));
        Assert.Equal("bridge", element.Attribute("type")!.Value);
        Assert.Equal("02:53:50:00:00:07", element.Element("mac")!.Attribute("address")!.Value);
        Assert.Equal("br-spherelet", element.Element("source")!.Attribute("bridge")!.Value);
        Assert.Equal("openvswitch", element.Element("virtualport")!.Attribute("type")!.Value);
        Assert.Equal("00112233-4455-6677-8899-aabbccddeeff", element.Element("virtualport")!.Element("parameters")!.Attribute("interfaceid")!.Value);
        Assert.Equal("101", element.Element("vlan")!.Element("tag")!.Attribute("id")!.Value);
        Assert.Equal("sphp0123456789a", element.Element("target")!.Attribute("dev")!.Value);
        Assert.Equal("virtio", element.Element("model")!.Attribute("type")!.Value);
        Assert.Equal("1400", element.Element("mtu")!.Attribute("size")!.Value);
        Assert.Null(element.Element("driver"));
        var userspace = System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec with { Nic = nic with { ChecksumOffload = false } }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));
        var host = userspace.Element("devices")!.Element("interface")!.Element("driver")!.Element("host")!;
        Assert.Equal(["off"], host.Attributes().Select(a => a.Value).Distinct());
        Assert.Equal(["csum", "ecn", "gso", "tso4", "tso6", "ufo"], host.Attributes().Select(a => a.Name.LocalName).Order());
        Assert.Empty(System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd")).Element("devices")!.Elements("interface"));
    }

    [Theory]
    [InlineData(0, 0, false, 0)]
    [InlineData(4, 1024, true, 2)]
    public void Domain_xml_is_valid_for_libvirts_schema(int maxCpus, int maxMemory, bool withNic, int blockDeviceSlots)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sph-domain-{Guid.NewGuid():N}.xml");
        var nic = withNic ? new Spherelet.Domain.Vmm.VmNic("br-spherelet", "sphp0123456789a", "02:53:50:00:00:07", 101, Guid.NewGuid(), 1500, ChecksumOffload: false) : null;
        File.WriteAllText(file, DomainXml.Build(Spec with { MaxVirtualCpus = maxCpus, MaxMemoryMiB = maxMemory, Nic = nic, BlockDeviceSlots = blockDeviceSlots }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));
        try
        {
            var start = new ProcessStartInfo("virt-xml-validate") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(file);
            start.ArgumentList.Add("domain");
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();

            Assert.True(process.ExitCode == 0, "virt-xml-validate (libvirt-clients) rejected the domain: " + output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_vm_with_block_device_slots_has_a_root_port_for_each_of_its_pci_devices_and_one_spare_per_slot()
    {
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec with { BlockDeviceSlots = 2 }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));
        var controllers = xml.Element("devices")!.Elements("controller").Where(c => (string?)c.Attribute("type") == "pci").ToList();

        Assert.Equal("pcie-root", (string?)controllers[0].Attribute("model"));
        Assert.Equal(DomainXml.PciDevices(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64")) + 2, controllers.Count(c => (string?)c.Attribute("model") == "pcie-root-port"));
        Assert.DoesNotContain(
            System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd")).Element("devices")!.Elements("controller"),
            c => (string?)c.Attribute("type") == "pci");
    }

    [Fact]
    public void A_hot_plugged_disk_is_a_raw_virtio_disk_with_its_serial_read_only_where_asked()
    {
        var disk = System.Xml.Linq.XElement.Parse(DomainXml.Disk(new Spherelet.Domain.Vmm.VmDisk("/dev/loop7", "sph0011223344556677", "vdb", ReadOnly: true)));

        Assert.Equal("/dev/loop7", (string?)disk.Element("source")!.Attribute("dev"));
        Assert.Equal(("vdb", "virtio"), ((string?)disk.Element("target")!.Attribute("dev"), (string?)disk.Element("target")!.Attribute("bus")));
        Assert.Equal("sph0011223344556677", disk.Element("serial")!.Value);
        Assert.NotNull(disk.Element("readonly"));
    }

    [Fact]
    public void Owner_written_into_the_metadata_reads_back_for_the_same_agent_only()
    {
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));
        var metadata = xml.Element("metadata")!.Elements().Single().ToString();

        Assert.Equal(Spec.Owner, DomainXml.ParseOwner(metadata, "00112233aabbccdd"));
        Assert.Null(DomainXml.ParseOwner(metadata, "another-agent-id"));
        // virDomainGetMetadata returns the element without its namespace prefix.
        Assert.Equal(Spec.Owner, DomainXml.ParseOwner(
            $"<pod><agent>00112233aabbccdd</agent><sandbox>{Spec.Owner.SandboxId}</sandbox><namespace>team-a</namespace><name>web-0</name><uid>{Spec.Owner.Uid}</uid><attempt>2</attempt></pod>",
            "00112233aabbccdd"));
        Assert.Null(DomainXml.ParseOwner("<other xmlns='urn:x'/>", "00112233aabbccdd"));
        Assert.Null(DomainXml.ParseOwner(null, "00112233aabbccdd"));
    }

    [Fact]
    public void The_cgroup_the_vm_was_put_in_is_recorded_in_the_metadata_and_reads_back_for_the_same_agent_only()
    {
        var cgroup = new Spherelet.Domain.Vmm.VmCgroup(Spherelet.Domain.Node.CgroupDriver.Cgroupfs, "/kubepods/burstable/pod0b1c", 102);
        var xml = System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec with { Cgroup = cgroup }, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd"));
        var metadata = xml.Element("metadata")!.Elements().Single().ToString();

        Assert.Equal(cgroup, DomainXml.ParseCgroup(metadata, "00112233aabbccdd"));
        Assert.Null(DomainXml.ParseCgroup(metadata, "another-agent-id"));
        Assert.Null(DomainXml.ParseCgroup(System.Xml.Linq.XElement.Parse(DomainXml.Build(Spec, new DomainHostFacts("qemu", "/usr/bin/qemu-system-x86_64"), "00112233aabbccdd")).Element("metadata")!.Elements().Single().ToString(), "00112233aabbccdd"));
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Golden");
}
