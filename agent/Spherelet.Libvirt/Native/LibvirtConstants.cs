namespace Spherelet.Libvirt.Native;

/// <summary>
/// The libvirt C constants that the binding passes or tests for, and those whose values
/// callers receive as plain numbers (close reasons, event details), named as in the headers.
/// The public enums (<see cref="DomainState"/>, <see cref="DomainEventType"/>) carry the
/// header values too; a unit test compiles a C program against the installed headers and
/// checks every value here and there.
/// </summary>
internal static class LibvirtConstants
{
    /// <summary>virErrorNumber: domain not found.</summary>
    internal const int VIR_ERR_NO_DOMAIN = 42;

    /// <summary>virErrorNumber: the operation does not apply in the current state (e.g. destroy of a stopped domain).</summary>
    internal const int VIR_ERR_OPERATION_INVALID = 55;

    /// <summary>virErrorNumber: the device to detach is not in the domain.</summary>
    internal const int VIR_ERR_DEVICE_MISSING = 99;

    /// <summary>virErrorNumber: the requested metadata element is not present.</summary>
    internal const int VIR_ERR_NO_DOMAIN_METADATA = 80;

    /// <summary>virDomainEventID: lifecycle events (virConnectDomainEventCallback).</summary>
    internal const int VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;

    /// <summary>virDomainEventStoppedDetailType: forced poweroff from the host.</summary>
    internal const int VIR_DOMAIN_EVENT_STOPPED_DESTROYED = 1;

    /// <summary>virDomainMetadataType: an element under &lt;metadata&gt; in a given namespace.</summary>
    internal const int VIR_DOMAIN_METADATA_ELEMENT = 2;

    /// <summary>virDomainModificationImpact: the current state (live if running, else persistent).</summary>
    internal const uint VIR_DOMAIN_AFFECT_CURRENT = 0;

    /// <summary>virDomainModificationImpact: change the running domain.</summary>
    internal const uint VIR_DOMAIN_AFFECT_LIVE = 1;

    /// <summary>virDomainModificationImpact: change the persistent definition.</summary>
    internal const uint VIR_DOMAIN_AFFECT_CONFIG = 2;

    /// <summary>virDomainCreateFlags: start the domain with its vCPUs paused.</summary>
    internal const uint VIR_DOMAIN_START_PAUSED = 1;

    /// <summary>Bytes of a UUID string buffer: 36 characters and the terminating NUL.</summary>
    internal const int VIR_UUID_STRING_BUFLEN = 37;

    /// <summary>virConnectCloseReason: a miscellaneous I/O error.</summary>
    internal const int VIR_CONNECT_CLOSE_REASON_ERROR = 0;

    /// <summary>virConnectCloseReason: end-of-file from the server (libvirtd stopped).</summary>
    internal const int VIR_CONNECT_CLOSE_REASON_EOF = 1;

    /// <summary>virConnectCloseReason: the keepalive timer expired.</summary>
    internal const int VIR_CONNECT_CLOSE_REASON_KEEPALIVE = 2;

    /// <summary>virConnectCloseReason: the client closed the connection.</summary>
    internal const int VIR_CONNECT_CLOSE_REASON_CLIENT = 3;

    /// <summary>Seconds between keepalive probes on a remote connection.</summary>
    internal const int KeepAliveIntervalSeconds = 5;

    /// <summary>Unanswered keepalive probes after which libvirt closes the connection.</summary>
    internal const uint KeepAliveCount = 3;
}
