using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Containers;

/// <summary>Checks the parts of a CreateContainer request that the domain acts on; each failure names the field.</summary>
public static class ContainerRequestValidator
{
    /// <summary>Kubernetes container names are DNS labels; the kubelet never sends longer ones.</summary>
    public const int MaxNameLength = 253;

    public static ContainerMetadata Metadata(ContainerMetadata? metadata)
    {
        if (metadata is null)
        {
            throw new InvalidRequestException("container metadata is required");
        }

        if (metadata.Name.Length == 0 || metadata.Name.Length > MaxNameLength || metadata.Name.Any(c => char.IsControl(c) || c == '/'))
        {
            throw new InvalidRequestException($"container name '{metadata.Name}' must be 1 to {MaxNameLength} characters without '/' or control characters");
        }

        return metadata;
    }

    /// <summary>The log path, relative to the pod's log directory, with '/' separators and nothing that leaves it.</summary>
    public static string LogPath(string logPath, string logDirectory)
    {
        ArgumentNullException.ThrowIfNull(logPath);
        if (logPath.Length == 0)
        {
            return string.Empty;
        }

        if (string.IsNullOrEmpty(logDirectory))
        {
            throw new InvalidRequestException($"log_path '{logPath}' needs the pod sandbox's log_directory, which is empty");
        }

        if (logPath.StartsWith('/') || !IsClean(logPath))
        {
            throw new InvalidRequestException($"log_path '{logPath}' must be a relative path below the pod's log directory (no '..', '.' or empty parts)");
        }

        return logPath;
    }

    public static IReadOnlyList<MountRequest> Mounts(IReadOnlyList<MountRequest> mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            if (!mount.ContainerPath.StartsWith('/') || !IsClean(mount.ContainerPath.TrimStart('/')) && mount.ContainerPath != "/")
            {
                throw new InvalidRequestException($"mount container_path '{mount.ContainerPath}' must be an absolute path without '..' or '.' parts");
            }

            if (mount.ContainerPath == "/")
            {
                throw new InvalidRequestException("a mount cannot replace the container's root file system");
            }

            if (!targets.Add(mount.ContainerPath.TrimEnd('/')))
            {
                throw new InvalidRequestException($"mount container_path '{mount.ContainerPath}' is given twice");
            }

            if (!mount.HostPath.StartsWith('/') || !IsClean(mount.HostPath.TrimStart('/')))
            {
                throw new InvalidRequestException($"mount host_path '{mount.HostPath}' must be an absolute path without '..' or '.' parts");
            }

            if (mount.Propagation == MountPropagation.Bidirectional)
            {
                throw new InvalidRequestException(
                    $"mount {mount.ContainerPath}: bidirectional propagation is not possible: mounts made in the pod VM cannot reach the host (use private or host-to-container)");
            }
        }

        return mounts;
    }

    private static bool IsClean(string relative) =>
        relative.Length > 0 && relative.TrimEnd('/').Split('/').All(part => part.Length > 0 && part is not "." and not ".." && !part.Contains('\0', StringComparison.Ordinal));
}
