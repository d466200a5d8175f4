using Runtime.V1;
using Spherelet.IntegrationTests.Guest;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>A daemon that boots real pod VMs: the built guest kernel and initramfs, libvirtd at qemu:///system.</summary>
public static class SandboxDaemon
{
    public static Dictionary<string, string> Environment(double connectTimeoutSeconds = 120) => new()
    {
        ["SPHERELET__GUEST__KERNELPATH"] = GuestArtifacts.Kernel,
        ["SPHERELET__GUEST__PVHKERNELPATH"] = GuestArtifacts.PvhKernel,
        ["SPHERELET__GUEST__INITRAMFSPATH"] = GuestArtifacts.Initramfs,
        ["SPHERELET__GUEST__CONNECTTIMEOUTSECONDS"] = connectTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SPHERELET__LOGLEVEL"] = "Debug",
    };

    public static PodSandboxConfig Pod(string name, string @namespace = "team-a", uint attempt = 0) => new()
    {
        Metadata = new PodSandboxMetadata { Name = name, Namespace = @namespace, Uid = "uid-" + name, Attempt = attempt },
        Hostname = name,
        DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { @namespace + ".svc.cluster.local" }, Options = { "ndots:5" } },
        Labels = { ["app"] = name },
        Annotations = { ["test"] = "sandboxes" },
        Linux = new LinuxPodSandboxConfig { Sysctls = { ["net.ipv4.ip_unprivileged_port_start"] = "0" } },
    };

    /// <summary>Waits until ListPodSandbox answers (recovery has finished).</summary>
    public static async Task<ListPodSandboxResponse> ListWhenRecoveredAsync(CriClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
