namespace Spherelet.Libvirt;

/// <summary>What happened to a domain, libvirt's <c>virDomainEventType</c> (values as in the header).</summary>
public enum DomainEventType
{
    Defined = 0,
    Undefined = 1,
    Started = 2,
    Suspended = 3,
    Resumed = 4,
    Stopped = 5,
    Shutdown = 6,
    PmSuspended = 7,
    Crashed = 8,
}
