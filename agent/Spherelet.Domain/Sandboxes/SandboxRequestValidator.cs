using System.Net;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;

namespace Spherelet.Domain.Sandboxes;

/// <summary>Checks a RunPodSandbox command before anything is done; every problem is InvalidArgument.</summary>
public static class SandboxRequestValidator
{
    public const int MaxNameLength = 253;
    public const int MaxNamespaceLength = 63;
    public const int MaxUidLength = 128;
    public const int MaxHostnameLength = 63;
    public const int MaxDnsEntries = 32;

    /// <returns>The metadata, known to be complete.</returns>
    /// <exception cref="InvalidRequestException">The first problem found.</exception>
    public static PodSandboxMetadata Validate(RunPodSandboxCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var metadata = command.Metadata ?? throw new InvalidRequestException("pod sandbox config: metadata is required");
        Text("metadata.name", metadata.Name, MaxNameLength);
        Text("metadata.namespace", metadata.Namespace, MaxNamespaceLength);
        Text("metadata.uid", metadata.Uid, MaxUidLength);
        if (command.Hostname.Length > 0)
        {
            if (command.Hostname.Length > MaxHostnameLength || !command.Hostname.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
            {
                throw new InvalidRequestException(
                    $"hostname '{command.Hostname}' must be at most {MaxHostnameLength} letters, digits, '-' and '.'");
            }
        }

        if (command.LogDirectory.Length > 0 && !Path.IsPathRooted(command.LogDirectory))
        {
            throw new InvalidRequestException($"log_directory '{command.LogDirectory}' must be an absolute path");
        }

        ValidateDns(command.Dns);
        foreach (var key in command.Labels.Keys.Concat(command.Annotations.Keys))
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new InvalidRequestException("label and annotation keys must not be empty");
            }
        }

        foreach (var (name, value) in command.Sysctls)
        {
            if (name.Length is 0 or > 256 || name.StartsWith('.') || name.Contains("..", StringComparison.Ordinal)
                || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/'))
            {
                throw new InvalidRequestException($"sysctl '{name}' is not a sysctl name");
            }

            if (value.Any(char.IsControl))
            {
                throw new InvalidRequestException($"sysctl {name}: the value must not contain control characters");
            }
        }

        if (command.CpuMillis < 0 || command.MemoryLimitBytes < 0 || command.CpuShares < 0
            || command.Overhead.CpuMillis < 0 || command.Overhead.MemoryBytes < 0)
        {
            throw new InvalidRequestException("pod resources and overhead must not be negative");
        }

        ValidateNamespaces(command.Namespaces);
        if (command.SelinuxLabel.Length > 0)
        {
            throw new InvalidRequestException(
                $"SELinux label '{command.SelinuxLabel}' cannot be applied: the pod VM's kernel has no SELinux (remove seLinuxOptions)");
        }

        return metadata;
    }

    /// <summary>
    /// Checks the kubelet's cgroup for the pod against the node's cgroup driver: an absolute path
    /// without <c>..</c> for cgroupfs, a <c>NAME.slice</c> unit name for systemd.
    /// </summary>
    /// <exception cref="InvalidRequestException">It does not fit the driver.</exception>
    public static void ValidateCgroupParent(string parent, CgroupDriver driver)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (parent.Length == 0)
        {
            return;
        }

        if (parent.Length > 4096 || parent.Any(char.IsControl))
        {
            throw new InvalidRequestException("linux.cgroup_parent is too long or holds control characters");
        }

        if (driver == CgroupDriver.Systemd)
        {
            // The kubelet sends the slice expanded into its path (/kubepods.slice/kubepods-burstable.slice/...);
            // a bare slice name (kubepods-burstable-podUID.slice) is taken too.
            var slice = parent.Split('/')[^1];
            if (!slice.EndsWith(".slice", StringComparison.Ordinal) || slice.Length == ".slice".Length || slice.StartsWith('-')
                || slice.Contains("--", StringComparison.Ordinal) || (parent.Contains('/', StringComparison.Ordinal) && !parent.StartsWith('/'))
                || parent.Split('/').Any(part => part is "." or ".."))
            {
                throw new InvalidRequestException(
                    $"linux.cgroup_parent '{parent}' is not a systemd slice (NAME.slice or its path): this node's cgroup driver is systemd, so the kubelet must use --cgroup-driver=systemd");
            }

            return;
        }

        if (!parent.StartsWith('/') || parent.Split('/').Any(part => part is "." or "..") || parent.Split('/')[^1].EndsWith(".slice", StringComparison.Ordinal))
        {
            throw new InvalidRequestException(
                $"linux.cgroup_parent '{parent}' is not an absolute cgroup path: this node's cgroup driver is cgroupfs, so the kubelet must use --cgroup-driver=cgroupfs");
        }
    }

    private static void ValidateNamespaces(PodNamespaceRequest namespaces)
    {
        var host = new List<string>();
        if (namespaces.HostNetwork)
        {
            host.Add("network (hostNetwork)");
        }

        if (namespaces.HostPid)
        {
            host.Add("PID (hostPID)");
        }

        if (namespaces.HostIpc)
        {
            host.Add("IPC (hostIPC)");
        }

        if (host.Count > 0)
        {
            throw new InvalidRequestException(
                $"the host's {string.Join(", ", host)} namespace is not available: each pod runs in its own VM");
        }
    }

    private static void ValidateDns(DnsSettings dns)
    {
        if (dns.Servers.Count > MaxDnsEntries || dns.Searches.Count > MaxDnsEntries || dns.Options.Count > MaxDnsEntries)
        {
            throw new InvalidRequestException($"dns_config: at most {MaxDnsEntries} servers, searches and options each");
        }

        foreach (var server in dns.Servers)
        {
            if (!IPAddress.TryParse(server, out _))
            {
                throw new InvalidRequestException($"dns_config: server '{server}' is not an IP address");
            }
        }

        foreach (var search in dns.Searches)
        {
            if (search.Length is 0 or > 253 || !search.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                throw new InvalidRequestException($"dns_config: search domain '{search}' is not a domain name");
            }
        }

        foreach (var option in dns.Options)
        {
            var name = option.Split(':', 2)[0];
            if (option.Length is 0 or > 253 || name.Length == 0
                || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                || option.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new InvalidRequestException($"dns_config: option '{option}' must be NAME or NAME:VALUE without spaces");
            }
        }
    }

    private static void Text(string field, string value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidRequestException($"pod sandbox config: {field} must not be empty");
        }

        if (value.Length > maxLength)
        {
            throw new InvalidRequestException($"pod sandbox config: {field} is {value.Length} characters, more than {maxLength}");
        }

        if (value.Any(c => char.IsControl(c) || c == '/'))
        {
            throw new InvalidRequestException($"pod sandbox config: {field} '{value}' must not contain '/' or control characters");
        }
    }
}
