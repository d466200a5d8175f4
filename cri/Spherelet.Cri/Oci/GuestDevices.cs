using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Crx.Protocol;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// The host devices a container asks for (CRI <c>devices</c>) and what each becomes in the pod VM.
/// A host device node means nothing inside a VM: devices the guest kernel provides itself
/// (<c>/dev/fuse</c>, <c>/dev/net/tun</c>) are the guest's own nodes; a host block device is
/// hot-plugged into the VM as a virtio disk, which CRX finds by its serial (an annotation of the
/// spec) and gives the container at its path with the requested access. Every CDI device is refused.
/// </summary>
public static class GuestDevices
{
    /// <summary>Checks the form of each device (paths, permissions, no CDI) before anything is done.</summary>
    /// <exception cref="InvalidRequestException">A bad path or permissions, a path given twice, or a CDI device.</exception>
    public static IReadOnlyList<DeviceRequest> Validate(IEnumerable<Device> devices, IEnumerable<CDIDevice> cdiDevices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(cdiDevices);
        if (cdiDevices.FirstOrDefault() is { } cdi)
        {
            throw new InvalidRequestException($"CDI device '{cdi.Name}' is not supported: a pod VM has no host devices but block devices");
        }

        var result = new List<DeviceRequest>();
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            var containerPath = device.ContainerPath.Length > 0 ? device.ContainerPath : device.HostPath;
            if (!device.HostPath.StartsWith('/'))
            {
                throw new InvalidRequestException($"device host_path '{device.HostPath}' must be an absolute path");
            }

            if (!containerPath.StartsWith('/') || containerPath.Split('/').Any(p => p is "." or ".."))
            {
                throw new InvalidRequestException($"device {device.HostPath}: container_path '{containerPath}' must be an absolute path without '.' or '..'");
            }

            var permissions = device.Permissions.Length > 0 ? device.Permissions : "rwm";
            if (permissions.Any(c => c is not ('r' or 'w' or 'm')) || permissions.Distinct().Count() != permissions.Length)
            {
                throw new InvalidRequestException($"device {device.HostPath}: permissions '{device.Permissions}' must be letters of 'rwm'");
            }

            if (!targets.Add(containerPath))
            {
                throw new InvalidRequestException($"device {device.HostPath}: container_path {containerPath} is given twice");
            }

            result.Add(new DeviceRequest(device.HostPath, containerPath, permissions));
        }

        return result;
    }

    /// <summary>
    /// The OCI <c>linux.devices</c> entries, the device cgroup rules that allow the guest's own devices,
    /// and the annotations that have CRX resolve each hot-plugged disk (it adds their rules itself).
    /// </summary>
    /// <param name="blockDeviceSerials">Container path to the serial of the disk hot-plugged for it.</param>
    /// <exception cref="InvalidRequestException">A device that is neither the guest's nor hot-plugged.</exception>
    public static (JsonArray Nodes, JsonArray Rules, IReadOnlyDictionary<string, string> Annotations) Build(
        IEnumerable<Device> devices, IEnumerable<CDIDevice> cdiDevices, IReadOnlyDictionary<string, string> blockDeviceSerials)
    {
        ArgumentNullException.ThrowIfNull(blockDeviceSerials);
        var nodes = new JsonArray();
        var rules = new JsonArray();
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var device in Validate(devices, cdiDevices))
        {
            if (GuestCharDevices.Provided.TryGetValue(device.HostPath, out var number))
            {
                nodes.Add(Node(device.ContainerPath, "c", number.Major, number.Minor));
                rules.Add(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = number.Major, ["minor"] = number.Minor, ["access"] = device.Permissions });
            }
            else if (blockDeviceSerials.TryGetValue(device.ContainerPath, out var serial))
            {
                // CRX fills in the guest's numbers once the disk is there, and allows them.
                nodes.Add(Node(device.ContainerPath, "b", 0, 0));
                annotations[SpecAnnotations.BlockDevicePrefix + device.ContainerPath] = $"{serial}:{device.Permissions}";
            }
            else
            {
                throw new InvalidRequestException(
                    $"device {device.HostPath} is not supported: a pod VM gets host block devices and the devices its own kernel provides ({string.Join(", ", GuestCharDevices.Provided.Keys)})");
            }
        }

        return (nodes, rules, annotations);
    }

    private static JsonObject Node(string path, string type, long major, long minor) => new()
    {
        ["path"] = path,
        ["type"] = type,
        ["major"] = major,
        ["minor"] = minor,
        ["fileMode"] = 438, // 0666: the device cgroup enforces the permissions
        ["uid"] = 0,
        ["gid"] = 0,
    };
}
