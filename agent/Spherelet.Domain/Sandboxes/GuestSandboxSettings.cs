namespace Spherelet.Domain.Sandboxes;

/// <summary>The sandbox settings CRX applies in the VM: hostname and resolv.conf.</summary>
public sealed record GuestSandboxSettings(string Hostname, DnsSettings Dns);
