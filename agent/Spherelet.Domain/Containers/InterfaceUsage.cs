namespace Spherelet.Domain.Containers;

/// <summary>The counters of one network interface of a pod VM, as its guest reports them.</summary>
public sealed record InterfaceUsage(
    string Name,
    ulong RxBytes,
    ulong RxPackets,
    ulong RxErrors,
    ulong RxDropped,
    ulong TxBytes,
    ulong TxPackets,
    ulong TxErrors,
    ulong TxDropped);
