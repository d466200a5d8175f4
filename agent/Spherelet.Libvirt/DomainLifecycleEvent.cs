namespace Spherelet.Libvirt;

/// <summary>
/// One lifecycle event of a domain. <see cref="Detail"/> is the type-specific
/// <c>virDomainEvent*DetailType</c> value, e.g. <c>VIR_DOMAIN_EVENT_STOPPED_DESTROYED</c> (1)
/// for a <see cref="DomainEventType.Stopped"/> event.
/// </summary>
public readonly record struct DomainLifecycleEvent(string DomainName, Guid Uuid, DomainEventType Type, int Detail);
