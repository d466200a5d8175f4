using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;
using Spherelet.Libvirt;

namespace Spherelet.Agent.Virtualization;

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

    public LibvirtVmm(LibvirtConnector libvirt, DomainHostFacts host, AgentInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _libvirt = libvirt;
        _host = host;
        _instance = instance.Id;
    }

    public string Name => "libvirt";

    public async Task StartAsync(VmSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        foreach (var (what, path) in new[] { ("guest kernel", spec.KernelPath), ("guest initramfs", spec.InitramfsPath) })
        {
            if (!File.Exists(path))
            {
                throw new PreconditionFailedException($"the {what} {path} does not exist: build and install the guest with scripts/setup");
            }
        }

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
                domain.Create();
            }
            catch
            {
                domain.Undefine();
                throw;
            }

            return 0;
        }, cancellationToken);
    }

    public Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken) =>
        Call(vmName, "resize", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName)
                ?? throw new ObjectNotFoundException($"no libvirt domain named {vmName}");
            var info = domain.GetInfo();
            if (virtualCpus > info.VirtualCpus)
            {
                domain.SetVirtualCpus(virtualCpus);
            }

            if ((ulong)memoryMiB * 1024 > info.MemoryKiB)
            {
                domain.SetMemory(memoryMiB * 1024L);
            }

            return 0;
        }, cancellationToken);

    public Task<bool> StopAsync(string vmName, CancellationToken cancellationToken) =>
        Call(vmName, "stop", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName);
            return domain is not null && domain.Destroy();
        }, cancellationToken);

    public Task DeleteAsync(string vmName, CancellationToken cancellationToken) =>
        Call(vmName, "delete", connection =>
        {
            using var domain = connection.LookupDomainByName(vmName);
            if (domain is not null)
            {
                domain.Destroy();
                domain.Undefine();
            }

            return 0;
        }, cancellationToken);

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
