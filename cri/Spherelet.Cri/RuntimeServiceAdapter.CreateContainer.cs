using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Images.Unpacking;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<CreateContainerResponse> CreateContainer(CreateContainerRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var config = request.Config ?? throw new InvalidRequestException("config is required");
        var sandboxConfig = request.SandboxConfig ?? throw new InvalidRequestException("sandbox_config is required");
        var reference = config.Image?.Image ?? string.Empty;
        if (reference.Length == 0)
        {
            throw new InvalidRequestException("config.image.image is required");
        }

        var image = _images.Find(reference)
            ?? throw new ObjectNotFoundException($"image {reference} is not present on this node: pull it first");
        var layers = image.Layers.Select(l => _images.LayerDirectory(l.Digest)).ToList();
        var passwd = LayerStackReader.ReadText(layers, "/etc/passwd") ?? string.Empty;
        var group = LayerStackReader.ReadText(layers, "/etc/group") ?? string.Empty;
        var seccomp = await LocalhostSeccompProfileAsync(Oci.SeccompProfiles.Effective(config.Linux?.SecurityContext), context.CancellationToken);
        var stopSignal = Signals.FromCri(config.StopSignal)
            ?? (image.Config.StopSignal.Length > 0
                ? Signals.Parse(image.Config.StopSignal) ?? throw new InvalidRequestException($"the image's StopSignal '{image.Config.StopSignal}' is not a signal")
                : Signals.SigTerm);

        var command = new CreateContainerCommand
        {
            SandboxId = request.PodSandboxId,
            Metadata = ContainerMapping.ToDomain(config.Metadata),
            Image = new ContainerImage(
                reference,
                image.Id,
                image.RepoDigests.Count > 0 ? image.RepoDigests[0] : image.Id,
                layers.Select(l => $"{GuestLayout.Layers}/{Path.GetFileName(l)}").ToList(),
                config.Image!.UserSpecifiedImage),
            Labels = config.Labels.ToDictionary(StringComparer.Ordinal),
            Annotations = config.Annotations.ToDictionary(StringComparer.Ordinal),
            LogPath = config.LogPath,
            Tty = config.Tty,
            Stdin = config.Stdin,
            StdinOnce = config.StdinOnce,
            Mounts = ContainerMapping.ToMountRequests(config.Mounts),
            Devices = GuestDevices.Validate(config.Devices, config.CDIDevices),
            Hugepages2MBBytes = Oci.Hugepages.Limit2MB(config.Linux?.Resources),
            HostCpuset = HostCpuset.Parse(config.Linux?.Resources?.CpusetCpus ?? string.Empty, config.Linux?.Resources?.CpusetMems ?? string.Empty),
            StopSignal = stopSignal,
            BuildSpec = spec => ContainerMapping.ToContainerSpec(OciSpecBuilder.Build(new OciSpecInput
            {
                ContainerId = spec.ContainerId,
                Container = config,
                Sandbox = sandboxConfig,
                Image = image.Config,
                RootfsPath = spec.RootfsPath,
                SandboxFilesDirectory = spec.SandboxFilesDirectory,
                CgroupsPath = spec.CgroupsPath,
                Passwd = passwd,
                Group = group,
                LocalhostSeccompProfile = seccomp,
                // Propagation from the host reaches the pod share through the host-side bind; inside the VM each mount is private.
                Mounts = spec.Mounts.SelectMany(GuestMounts).ToList(),
                BlockDeviceSerials = spec.Disks.ToDictionary(d => d.Key, d => d.Value.Serial, StringComparer.Ordinal),
                PodHugepages2MB = spec.PodHugepages2MB,
            })),
        };
        var id = await _containers.CreateAsync(command, context.CancellationToken);
        return new CreateContainerResponse { ContainerId = id };
    }

    /// <summary>
    /// A host path mount as the VM mounts it: its top, then each mount found under the host path,
    /// bound over its place (writable unless the mount is recursively read-only; the host-side bind
    /// keeps a read-only mount read-only either way). With HostToContainer propagation the VM has
    /// one 9p mount for all of it and cannot tell the mounts apart: the host-side bind then enforces
    /// a plain read-only on its top alone, and the VM mounts it writable.
    /// </summary>
    private static IEnumerable<OciMount> GuestMounts(ContainerMount mount)
    {
        var topReadOnly = mount.RecursiveReadOnly || (mount.ReadOnly && mount.Propagation != Spherelet.Domain.Containers.MountPropagation.HostToContainer);
        yield return new OciMount(mount.ContainerPath, mount.GuestPath, topReadOnly);
        foreach (var sub in mount.Submounts)
        {
            yield return new OciMount($"{mount.ContainerPath.TrimEnd('/')}/{sub.PathInVolume}", sub.GuestPath, mount.RecursiveReadOnly);
        }
    }

    /// <summary>The JSON of a Localhost seccomp profile, read from the node; null for other profile types.</summary>
    private static async Task<string?> LocalhostSeccompProfileAsync(SecurityProfile? profile, CancellationToken cancellationToken)
    {
        if (profile is not { ProfileType: SecurityProfile.Types.ProfileType.Localhost })
        {
            return null;
        }

        var path = profile.LocalhostRef;
        if (!Path.IsPathRooted(path))
        {
            throw new InvalidRequestException($"the Localhost seccomp profile '{path}' must be an absolute path on the node");
        }

        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidRequestException($"the Localhost seccomp profile '{path}' cannot be read: {e.Message}");
        }
    }
}
