namespace Spherelet.Domain.Sandboxes;

/// <summary>The sandbox settings CRX applies in the VM: hostname, resolv.conf, the pod's sysctls, and its NIC's address and default route.</summary>
public sealed record GuestSandboxSettings(string Hostname, DnsSettings Dns, IReadOnlyDictionary<string, string> Sysctls, PodNetworkAttachment? Network = null);
