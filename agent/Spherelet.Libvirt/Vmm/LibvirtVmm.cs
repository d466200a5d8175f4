using System.Globalization;
using System.Xml.Linq;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Libvirt.Vmm;

/// <summary>
/// Pod VMs as persistent libvirt domains (defined, then started; stopped by destroy;
/// removed by undefine), so they outlive the agent and <c>virsh</c> shows them. Only
/// domains named <c>sph-…</c> whose metadata names this agent instance are considered ours
/// (agents with different roots may share one libvirtd: each sees only its own VMs).
/// </summary>
public sealed class LibvirtVmm : IVmm
{
    private readonly LibvirtConnector _libvirt;
    private readonly DomainHostFacts _host;
    private readonly string _instance;
    private readonly IVmCgroups _cgroups;

    /// <param name="agentInstance">This agent's instance id, written into every domain's metadata (several agents may share one libvirtd).</param>
    public LibvirtVmm(LibvirtConnector libvirt, DomainHostFacts host, string agentInstance, IVmCgroups cgroups)
    {
        _libvirt = libvirt;
        _host = host;
        _instance = agentInstance;
        _cgroups = cgroups;
    }

    /// <summary>Where the system libvirtd keeps each running QEMU's pid file (<c>NAME.pid</c>).</summary>
    public static string QemuRunDirectory { get; set; } = "/run/libvirt/qemu";

    public string Name => RuntimeHandler.LibvirtVmm;

    /// <summary>libvirt adds the tap to the bridge itself (an OVS virtualport in the domain).</summary>
    public bool PlugsNic => true;

    public bool Grows => true;

    /// <summary>libvirt's QEMU runs as root with the share passed through: no ids to map.</summary>
    public Task<VmIdMap?> ReserveAsync(string vmName, CancellationToken cancellationToken) => Task.FromResult<VmIdMap?>(null);

    public Task OpenAsync(CancellationToken cancellationToken) => Call("*", "connect for", connection => 0, cancellationToken);

    public IDisposable WatchReconnects(Action handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _libvirt.Reconnected += handler;
        return new Unsubscriber(() => _libvirt.Reconnected -= handler);
    }

    public async Task<GuestEndpoint> StartAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await CreateAndRunAsync(spec, beforeRun, cancellationToken);
        // QEMU serves the CRX channel on the socket the spec named, in the VM's run directory.
        return new GuestEndpoint(spec.ChannelSocketPath);
    }

    private async Task CreateAndRunAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        GuestFiles.EnsureExist(spec);

        var xml = DomainXml.Build(spec, _host, _instance);
        await Call(spec.Name, "start", connection =>
        {
            using (var existing = connection.LookupDomainByName(spec.Name))
            {
                if (existing is not null)
                {
                    throw new ObjectAlreadyExistsException($"a libvirt domain named {spec.Name} exists");
                }
            }

            using var domain = connection.DefineDomain(xml);
            try
            {
                // A VM that goes under the pod's cgroup, or whose port is secured first, starts
                // paused and runs once its QEMU is there and its port is closed to forged frames.
                if (spec.Cgroup is null && beforeRun is null)
                {
                    domain.Create();
                }
                else
                {
                    domain.CreatePaused();
                }
            }
            catch
            {
                domain.Undefine();
                throw;
            }

            return 0;
        }, cancellationToken);

        if (spec.Cgroup is not null || beforeRun is not null)
        {
            try
            {
                if (spec.Cgroup is { } cgroup)
                {
                    await _cgroups.PlaceAsync(QemuPid(spec.Name), spec.Name, cgroup, cancellationToken);
                }

                if (beforeRun is not null)
                {
                    await beforeRun(cancellationToken);
                }

                await Call(spec.Name, "resume", connection =>
                {
                    using var domain = Existing(connection, spec.Name);
                    domain.Resume();
                    return 0;
                }, cancellationToken);
            }
            catch
            {
                await DeleteAsync(spec.Name, CancellationToken.None);
                throw;
            }
        }
    }

    private static long KiB(XElement? size)
    {
        if (size is null)
        {
            return 0;
        }

        var value = long.Parse(size.Value, CultureInfo.InvariantCulture);
        return ((string?)size.Attribute("unit"))?.ToUpperInvariant() switch
        {
            "B" or "BYTES" => value / 1024,
            "MIB" or "M" => value * 1024,
            "GIB" or "G" => value * 1024 * 1024,
            _ => value,
        };
    }

    /// <exception cref="ObjectNotFoundException">libvirt has no domain of that name.</exception>
    private static LibvirtDomain Existing(LibvirtConnection connection, string vmName) =>
        connection.LookupDomainByName(vmName) ?? throw new ObjectNotFoundException($"no libvirt domain named {vmName}");

    /// <summary>The pid of a running domain's QEMU, from libvirtd's pid file.</summary>
    /// <exception cref="VmmOperationFailedException">There is none.</exception>
    public static int QemuPid(string vmName)
    {
        var file = Path.Combine(QemuRunDirectory, vmName + ".pid");
        try
        {
            return int.Parse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            throw new VmmOperationFailedException($"cannot read the QEMU pid of {vmName} from {file}: {e.Message}", e);
        }
    }

    public Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken) =>
        Call(vmName, "resize", connection =>
        {
            using var domain = Existing(connection, vmName);
            var info = domain.GetInfo();
            if (virtualCpus > info.VirtualCpus)
            {
                domain.SetVirtualCpus(virtualCpus);
            }

            var xml = XDocument.Parse(domain.GetXml()).Root!;
            if (GrowthDevice(xml) is { } growth)
            {
                // Plugged by the guest's virtio-mem driver as it gets to it; the VM's size is what was requested.
                var target = growth.Element("target")!;
                var boot = BootMemoryKiB(xml);
                var wanted = (memoryMiB * 1024L) - boot;
                var block = KiB(target.Element("block"));
                wanted = block > 0 ? (wanted + block - 1) / block * block : wanted;
                if (wanted > KiB(target.Element("requested")))
                {
                    if (wanted > KiB(target.Element("size")))
                    {
                        throw new PreconditionFailedException(
                            $"pod VM {vmName} can grow by {KiB(target.Element("size")) / 1024} MiB, not {wanted / 1024} MiB (RuntimeHandlers:NAME:MaxMemoryMiB)");
                    }

                    target.Element("current")?.Remove();
                    target.Element("requested")!.ReplaceWith(new XElement("requested", new XAttribute("unit", "KiB"), wanted));
                    domain.UpdateDevice(growth.ToString());
                }
            }
            else if ((ulong)memoryMiB * 1024 > info.MemoryKiB)
            {
                // A VM defined before memory growth by virtio-mem: its balloon holds what it may grow to.
                domain.SetMemory(memoryMiB * 1024L);
            }

            return 0;
        }, cancellationToken);

    /// <summary>The virtio-mem device of ordinary memory the VM grows with (the hugepage one has a page size).</summary>
    private static XElement? GrowthDevice(XElement domain) =>
        domain.Element("devices")!.Elements("memory")
            .FirstOrDefault(m => (string?)m.Attribute("model") == "virtio-mem" && m.Element("source")?.Element("pagesize") is null);

    /// <summary>The memory the VM booted with: its NUMA node's.</summary>
    private static long BootMemoryKiB(XElement domain)
    {
        var cell = domain.Element("cpu")?.Element("numa")?.Element("cell");
        if (cell is null)
        {
            return KiB(domain.Element("currentMemory"));
        }

        return KiB(new XElement("size", new XAttribute("unit", (string?)cell.Attribute("unit") ?? "KiB"), (string?)cell.Attribute("memory") ?? "0"));
    }

    public Task AttachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) =>
        Call(vmName, $"attach {disk?.HostPath} to", connection =>
        {
            ArgumentNullException.ThrowIfNull(disk);
            using var domain = Existing(connection, vmName);
            domain.AttachDevice(DomainXml.Disk(disk));
            return 0;
        }, cancellationToken);

    public Task DetachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) =>
        Call(vmName, $"detach {disk?.HostPath} from", connection =>
        {
            ArgumentNullException.ThrowIfNull(disk);
            using var domain = connection.LookupDomainByName(vmName);
            return domain is not null && domain.DetachDevice(DomainXml.Disk(disk));
        }, cancellationToken);

    /// <summary>How long the guest may take to plug hugepage memory it was given (slow under TCG).</summary>
    public static TimeSpan HugepagePlugTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public async Task GrowHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken)
    {
        await RequestHugepagesAsync(vmName, mebibytes, cancellationToken);

        // The guest plugs the memory in blocks as its driver gets to it: wait until all of it is
        // there, so that the guest's hugepages are made of it and not of its ordinary memory.
        var deadline = DateTime.UtcNow + HugepagePlugTimeout;
        while (true)
        {
            var plugged = await Call(vmName, "read the hugepage memory of", connection =>
            {
                using var domain = Existing(connection, vmName);
                return KiB(HugepageDevice(domain)?.Element("target")?.Element("current")) / 1024;
            }, cancellationToken);
            if (plugged >= mebibytes)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new PreconditionFailedException(
                    $"pod VM {vmName} took {plugged} of the {mebibytes} MiB of hugepage memory it was given within {HugepagePlugTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static XElement? HugepageDevice(LibvirtDomain domain) =>
        XDocument.Parse(domain.GetXml()).Root!.Element("devices")!.Elements("memory")
            .FirstOrDefault(m => (string?)m.Attribute("model") == "virtio-mem" && m.Element("source")?.Element("pagesize") is not null);

    private Task<int> RequestHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken) =>
        Call(vmName, "give hugepage memory to", connection =>
        {
            using var domain = Existing(connection, vmName);
            var device = HugepageDevice(domain)
                ?? throw new PreconditionFailedException(
                    $"pod VM {vmName} has no hugepage memory: the host had no 2 MiB hugepages when the pod started (mount hugetlbfs and set vm.nr_hugepages before libvirtd and the agent start)");
            var target = device.Element("target")!;
            var size = KiB(target.Element("size")) / 1024;
            var requested = KiB(target.Element("requested")) / 1024;
            if (mebibytes <= requested)
            {
                return 0;
            }

            if (mebibytes > size)
            {
                throw new PreconditionFailedException(
                    $"pod VM {vmName} can hold {size} MiB of hugepages, not {mebibytes} MiB (RuntimeHandlers:NAME:HugepagesMaxMiB)");
            }

            var free = HostHugepages.Free() * 2;
            if (mebibytes - requested > free)
            {
                throw new PreconditionFailedException(
                    $"the host has {free} MiB of free 2 MiB hugepages; pod VM {vmName} needs {mebibytes - requested} MiB more");
            }

            target.Element("current")?.Remove();
            target.Element("requested")!.ReplaceWith(new XElement("requested", new XAttribute("unit", "KiB"), mebibytes * 1024L));
            domain.UpdateDevice(device.ToString());
            return 0;
        }, cancellationToken);

    public async Task UpdateCgroupAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        if (await InspectAsync(vmName, cancellationToken) is null)
        {
            throw new ObjectNotFoundException($"no libvirt domain named {vmName}");
        }

        _cgroups.Update(vmName, cgroup);
    }

    public Task<bool> StopAsync(string vmName, CancellationToken cancellationToken) =>
        Call(vmName, "stop", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName);
            return domain is not null && domain.Destroy();
        }, cancellationToken);

    public async Task DeleteAsync(string vmName, CancellationToken cancellationToken)
    {
        var cgroup = await Call(vmName, "delete", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName);
            if (domain is null)
            {
                return null;
            }

            var placed = DomainXml.ParseCgroup(domain.GetMetadataElement(DomainXml.MetadataNamespace), _instance);
            domain.Destroy();
            domain.Undefine();
            return placed;
        }, cancellationToken);
        if (cgroup is not null)
        {
            await _cgroups.RemoveAsync(vmName, cgroup, cancellationToken);
        }
    }

    public Task<VmStatus?> InspectAsync(string vmName, CancellationToken cancellationToken) =>
        Call(vmName, "inspect", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName);
            return domain is null ? null : Status(domain);
        }, cancellationToken);

    public Task<IReadOnlyList<VmStatus>> ListAsync(CancellationToken cancellationToken) =>
        Call<IReadOnlyList<VmStatus>>("*", "list", connection =>
        {
            var result = new List<VmStatus>();
            foreach (var domain in connection.ListAllDomains())
            {
                using (domain)
                {
                    if (domain.Name.StartsWith(SandboxLayout.VmNamePrefix, StringComparison.Ordinal) && Status(domain) is { Owner: not null } status)
                    {
                        result.Add(status);
                    }
                }
            }

            return result;
        }, cancellationToken);

    public IDisposable WatchStops(Action<VmStopped> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _libvirt.SubscribeLifecycleEvents(e =>
        {
            if (e.Type is DomainEventType.Stopped or DomainEventType.Crashed
                && e.DomainName.StartsWith(SandboxLayout.VmNamePrefix, StringComparison.Ordinal))
            {
                handler(new VmStopped(e.DomainName, StopReason(e)));
            }
        });
    }

    private VmStatus Status(LibvirtDomain domain)
    {
        var info = domain.GetInfo();
        var state = info.State switch
        {
            DomainState.Running or DomainState.Blocked => VmState.Running,
            DomainState.Paused or DomainState.PmSuspended => VmState.Paused,
            DomainState.Shutoff or DomainState.Shutdown => VmState.Stopped,
            DomainState.Crashed => VmState.Crashed,
            _ => VmState.Unknown,
        };
        return new VmStatus(
            domain.Name,
            domain.Uuid,
            state,
            (int)info.VirtualCpus,
            // The memory the VM has now (its balloon target), not the maximum it may grow to.
            (long)(info.MemoryKiB / 1024),
            TimeSpan.FromTicks((long)(info.CpuTimeNanoseconds / 100)),
            DomainXml.ParseOwner(domain.GetMetadataElement(DomainXml.MetadataNamespace), _instance));
    }

    /// <summary>libvirt's VIR_DOMAIN_EVENT_STOPPED_* and crash details, in words.</summary>
    private static string StopReason(DomainLifecycleEvent e) =>
        e.Type == DomainEventType.Crashed
            ? "crashed"
            : e.Detail switch
            {
                0 => "shutdown",
                1 => "destroyed",
                2 => "crashed",
                3 => "migrated",
                4 => "saved",
                5 => "failed",
                6 => "from snapshot",
                _ => $"stopped ({e.Detail})",
            };

    private async Task<T> Call<T>(string vmName, string what, Func<LibvirtConnection, T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _libvirt.UseAsync(call, cancellationToken);
        }
        catch (LibvirtException e)
        {
            throw new VmmOperationFailedException($"libvirt could not {what} {vmName}: {e.Message}", e);
        }
    }
}
