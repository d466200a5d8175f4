namespace Spherelet.Domain.Sandboxes;

/// <summary>The sandbox settings CRX applies in the VM: hostname, resolv.conf and the pod's sysctls.</summary>
public sealed record GuestSandboxSettings(string Hostname, DnsSettings Dns, IReadOnlyDictionary<string, string> Sysctls);
