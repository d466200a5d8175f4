using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// The host devices a container may ask for (CRI <c>devices</c>) and what each becomes in the pod
/// VM. A host device node means nothing inside a VM: only devices the guest kernel provides itself
/// are given, as the guest's own node (<c>/dev/fuse</c>, <c>/dev/net/tun</c>); every other device,
/// and every CDI device, is refused, naming it.
/// </summary>
public static class GuestDevices
{
    /// <summary>Character devices the guest kernel has, by host path: the guest's major and minor.</summary>
    public static readonly IReadOnlyDictionary<string, (long Major, long Minor)> Provided = new Dictionary<string, (long, long)>(StringComparer.Ordinal)
    {
        ["/dev/fuse"] = (10, 229),
        ["/dev/net/tun"] = (10, 200),
    };

    /// <summary>The OCI <c>linux.devices</c> entries and the device cgroup rules that allow them.</summary>
    /// <exception cref="InvalidRequestException">A device that cannot be given, a bad path or bad permissions.</exception>
    public static (JsonArray Nodes, JsonArray Rules) Build(IEnumerable<Device> devices, IEnumerable<CDIDevice> cdiDevices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(cdiDevices);
        if (cdiDevices.FirstOrDefault() is { } cdi)
        {
            throw new InvalidRequestException($"CDI device '{cdi.Name}' is not supported: a pod VM has no host devices");
        }

        var nodes = new JsonArray();
        var rules = new JsonArray();
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            var containerPath = device.ContainerPath.Length > 0 ? device.ContainerPath : device.HostPath;
            if (!containerPath.StartsWith('/') || containerPath.Split('/').Any(p => p is "." or ".."))
            {
                throw new InvalidRequestException($"device {device.HostPath}: container_path '{containerPath}' must be an absolute path without '.' or '..'");
            }

            var permissions = device.Permissions.Length > 0 ? device.Permissions : "rwm";
            if (permissions.Any(c => c is not ('r' or 'w' or 'm')) || permissions.Distinct().Count() != permissions.Length)
            {
                throw new InvalidRequestException($"device {device.HostPath}: permissions '{device.Permissions}' must be letters of 'rwm'");
            }

            if (!Provided.TryGetValue(device.HostPath, out var number))
            {
                throw new InvalidRequestException(
                    $"device {device.HostPath} is not supported: a pod VM gets only the devices its kernel provides ({string.Join(", ", Provided.Keys)})");
            }

            if (!targets.Add(containerPath))
            {
                throw new InvalidRequestException($"device {device.HostPath}: container_path {containerPath} is given twice");
            }

            nodes.Add(new JsonObject
            {
                ["path"] = containerPath,
                ["type"] = "c",
                ["major"] = number.Major,
                ["minor"] = number.Minor,
                ["fileMode"] = 438, // 0666: the device cgroup enforces the permissions
                ["uid"] = 0,
                ["gid"] = 0,
            });
            rules.Add(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = number.Major, ["minor"] = number.Minor, ["access"] = permissions });
        }

        return (nodes, rules);
    }
}
