using Spherelet.Libvirt.Native;

namespace Spherelet.Libvirt;

/// <summary>
/// One libvirt domain (a VM, defined or running), held through its own reference
/// (<c>virDomainPtr</c>, released by <see cref="Dispose"/>). Calls block while libvirtd answers.
/// </summary>
public sealed unsafe class LibvirtDomain : IDisposable
{
    private readonly DomainHandle _handle;

    /// <summary>Takes ownership of <paramref name="handle"/>; disposes it if the domain cannot be read.</summary>
    internal LibvirtDomain(DomainHandle handle)
    {
        _handle = handle;
        try
        {
            // The handle is new and not shared yet, so it cannot be released under this call.
            (Name, Uuid) = LibvirtNative.NameAndUuid(handle.DangerousGetHandle());
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The domain's name (read once, when this object was made).</summary>
    public string Name { get; }

    /// <summary>The domain's UUID (read once, when this object was made).</summary>
    public Guid Uuid { get; }

    /// <summary>Starts the defined domain (<c>virDomainCreate</c>).</summary>
    /// <exception cref="LibvirtException">libvirt could not start it (already running, QEMU failed, ...).</exception>
    public void Create()
    {
        if (LibvirtNative.virDomainCreate(_handle) < 0)
        {
            throw LibvirtNative.TakeLastError($"start domain {Name}");
        }
    }

    /// <summary>Starts the defined domain with its vCPUs paused (<c>virDomainCreateWithFlags</c>, <c>VIR_DOMAIN_START_PAUSED</c>): its QEMU runs, its guest does not yet.</summary>
    /// <exception cref="LibvirtException">libvirt could not start it.</exception>
    public void CreatePaused()
    {
        if (LibvirtNative.virDomainCreateWithFlags(_handle, LibvirtConstants.VIR_DOMAIN_START_PAUSED) < 0)
        {
            throw LibvirtNative.TakeLastError($"start domain {Name} paused");
        }
    }

    /// <summary>Lets a paused domain's vCPUs run (<c>virDomainResume</c>).</summary>
    /// <exception cref="LibvirtException">libvirt could not resume it.</exception>
    public void Resume()
    {
        if (LibvirtNative.virDomainResume(_handle) < 0)
        {
            throw LibvirtNative.TakeLastError($"resume domain {Name}");
        }
    }

    /// <summary>Hot-plugs a device into the running domain (<c>virDomainAttachDeviceFlags</c>, live only).</summary>
    /// <exception cref="LibvirtException">libvirt or QEMU refused it (no free slot, the source cannot be opened, ...).</exception>
    public void AttachDevice(string xml)
    {
        if (LibvirtNative.virDomainAttachDeviceFlags(_handle, xml, LibvirtConstants.VIR_DOMAIN_AFFECT_LIVE) < 0)
        {
            throw LibvirtNative.TakeLastError($"attach a device to domain {Name}");
        }
    }

    /// <summary>Changes a device of the running domain (<c>virDomainUpdateDeviceFlags</c>, live only); the XML names it by its alias.</summary>
    /// <exception cref="LibvirtException">libvirt or QEMU refused it.</exception>
    public void UpdateDevice(string xml)
    {
        if (LibvirtNative.virDomainUpdateDeviceFlags(_handle, xml, LibvirtConstants.VIR_DOMAIN_AFFECT_LIVE) < 0)
        {
            throw LibvirtNative.TakeLastError($"update a device of domain {Name}");
        }
    }

    /// <summary>Asks the running domain to let a device go (<c>virDomainDetachDeviceFlags</c>, live only).</summary>
    /// <returns>False when the domain has no such device.</returns>
    /// <exception cref="LibvirtException">libvirt refused it.</exception>
    public bool DetachDevice(string xml)
    {
        if (LibvirtNative.virDomainDetachDeviceFlags(_handle, xml, LibvirtConstants.VIR_DOMAIN_AFFECT_LIVE) < 0)
        {
            var error = LibvirtNative.TakeLastError($"detach a device from domain {Name}");
            if (error.Code is LibvirtConstants.VIR_ERR_DEVICE_MISSING or LibvirtConstants.VIR_ERR_OPERATION_INVALID)
            {
                return false;
            }

            throw error;
        }

        return true;
    }

    /// <summary>Stops the domain at once, like pulling the plug (<c>virDomainDestroy</c>).</summary>
    /// <returns>False when the domain was not running.</returns>
    /// <exception cref="LibvirtException">libvirt could not stop it.</exception>
    public bool Destroy()
    {
        if (LibvirtNative.virDomainDestroy(_handle) < 0)
        {
            var error = LibvirtNative.TakeLastError($"destroy domain {Name}");
            if (error.Code == LibvirtConstants.VIR_ERR_OPERATION_INVALID)
            {
                return false;
            }

            throw error;
        }

        return true;
    }

    /// <summary>Removes the domain's persistent definition (<c>virDomainUndefineFlags</c> without flags).</summary>
    /// <exception cref="LibvirtException">libvirt could not undefine it.</exception>
    public void Undefine()
    {
        if (LibvirtNative.virDomainUndefineFlags(_handle, 0) < 0)
        {
            throw LibvirtNative.TakeLastError($"undefine domain {Name}");
        }
    }

    /// <summary>The domain's state and the state-specific reason (a <c>virDomain*Reason</c> value).</summary>
    /// <exception cref="LibvirtException">The domain is gone, or libvirtd could not be asked.</exception>
    public (DomainState State, int Reason) GetState()
    {
        if (LibvirtNative.virDomainGetState(_handle, out var state, out var reason, 0) < 0)
        {
            throw LibvirtNative.TakeLastError($"state of domain {Name}");
        }

        return ((DomainState)state, reason);
    }

    /// <summary>
    /// Sets the number of online vCPUs of the running domain and of its definition
    /// (<c>virDomainSetVcpusFlags</c>, live and config); at most the domain's maximum.
    /// </summary>
    /// <exception cref="LibvirtException">libvirt could not change them (above the maximum, hotplug refused).</exception>
    public void SetVirtualCpus(int count)
    {
        if (LibvirtNative.virDomainSetVcpusFlags(_handle, (uint)count, LibvirtConstants.VIR_DOMAIN_AFFECT_LIVE | LibvirtConstants.VIR_DOMAIN_AFFECT_CONFIG) < 0)
        {
            throw LibvirtNative.TakeLastError($"set {count} vCPUs of domain {Name}");
        }
    }

    /// <summary>
    /// Sets the memory the running domain may use, through its balloon, and its definition's
    /// current memory (<c>virDomainSetMemoryFlags</c>, live and config); at most the domain's maximum.
    /// </summary>
    /// <exception cref="LibvirtException">libvirt could not change it.</exception>
    public void SetMemory(long memoryKiB)
    {
        if (LibvirtNative.virDomainSetMemoryFlags(_handle, (ulong)memoryKiB, LibvirtConstants.VIR_DOMAIN_AFFECT_LIVE | LibvirtConstants.VIR_DOMAIN_AFFECT_CONFIG) < 0)
        {
            throw LibvirtNative.TakeLastError($"set {memoryKiB} KiB of memory of domain {Name}");
        }
    }

    /// <summary>State, memory, vCPUs and CPU time (<c>virDomainGetInfo</c>).</summary>
    /// <exception cref="LibvirtException">The domain is gone, or libvirtd could not be asked.</exception>
    public DomainInfo GetInfo()
    {
        if (LibvirtNative.virDomainGetInfo(_handle, out var info) < 0)
        {
            throw LibvirtNative.TakeLastError($"info of domain {Name}");
        }

        return new DomainInfo((DomainState)info.State, info.MaxMem, info.Memory, info.NrVirtCpu, info.CpuTime);
    }

    /// <summary>The domain's current XML description.</summary>
    /// <exception cref="LibvirtException">The domain is gone, or libvirtd could not be asked.</exception>
    public string GetXml()
    {
        var xml = LibvirtNative.virDomainGetXMLDesc(_handle, 0);
        if (xml == null)
        {
            throw LibvirtNative.TakeLastError($"XML of domain {Name}");
        }

        return LibvirtNative.TakeString(xml);
    }

    /// <summary>
    /// The element under the domain's <c>&lt;metadata&gt;</c> in namespace
    /// <paramref name="namespaceUri"/>, as XML; null when there is none.
    /// </summary>
    /// <exception cref="LibvirtException">The domain is gone, or libvirtd could not be asked.</exception>
    public string? GetMetadataElement(string namespaceUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespaceUri);
        var metadata = LibvirtNative.virDomainGetMetadata(
            _handle,
            LibvirtConstants.VIR_DOMAIN_METADATA_ELEMENT,
            namespaceUri,
            LibvirtConstants.VIR_DOMAIN_AFFECT_CURRENT);
        if (metadata == null)
        {
            var error = LibvirtNative.TakeLastError($"metadata {namespaceUri} of domain {Name}");
            if (error.Code == LibvirtConstants.VIR_ERR_NO_DOMAIN_METADATA)
            {
                return null;
            }

            throw error;
        }

        return LibvirtNative.TakeString(metadata);
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString() => Name;
}
