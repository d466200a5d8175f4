namespace Spherelet.Domain.Sandboxes;

/// <summary>What a pod's CRX said at the handshake.</summary>
public sealed record GuestInfo(string CrxVersion, string KernelRelease, ulong BootToReadyMs);
