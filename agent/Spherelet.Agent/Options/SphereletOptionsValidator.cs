using System.Text;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;

namespace Spherelet.Agent.Options;

/// <summary>Checks every option at start; each failure names its configuration key.</summary>
public static class SphereletOptionsValidator
{
    /// <summary>Linux's sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    public static IReadOnlyList<string> Validate(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        AbsolutePath(errors, "Socket", options.Socket);
        if (Encoding.UTF8.GetByteCount(options.Socket) > MaxSocketPathBytes)
        {
            errors.Add($"Socket: '{options.Socket}' is longer than the {MaxSocketPathBytes} bytes a Unix socket path may have");
        }

        AbsolutePath(errors, "Root", options.Root);
        AbsolutePath(errors, "State", options.State);
        var channel = Path.Combine(options.State ?? string.Empty, "vm", "sph-0123456789ab", "crx.sock");
        if (Encoding.UTF8.GetByteCount(channel) > MaxSocketPathBytes)
        {
            errors.Add($"State: '{options.State}' is too long: pod channel sockets such as '{channel}' would exceed {MaxSocketPathBytes} bytes");
        }
        if (!Enum.TryParse<LogLevel>(options.LogLevel, ignoreCase: true, out _) || int.TryParse(options.LogLevel, out _))
        {
            errors.Add($"LogLevel: '{options.LogLevel}' is not one of Trace, Debug, Information, Warning, Error, Critical, None");
        }

        if (ParseCgroupDriver(options.CgroupDriver) is null)
        {
            errors.Add($"CgroupDriver: '{options.CgroupDriver}' is not one of auto, systemd, cgroupfs");
        }

        if (string.IsNullOrWhiteSpace(options.LibvirtUri) || !options.LibvirtUri.Contains("://", StringComparison.Ordinal))
        {
            errors.Add($"LibvirtUri: '{options.LibvirtUri}' is not a libvirt URI such as qemu:///system");
        }

        AbsolutePath(errors, "QemuPath", options.QemuPath);
        AbsolutePath(errors, "Guest:KernelPath", options.Guest.KernelPath);
        AbsolutePath(errors, "Guest:PvhKernelPath", options.Guest.PvhKernelPath);
        AbsolutePath(errors, "Guest:InitramfsPath", options.Guest.InitramfsPath);
        AbsolutePath(errors, "Guest:CrunPath", options.Guest.CrunPath);
        PositiveSeconds(errors, "Guest:ConnectTimeoutSeconds", options.Guest.ConnectTimeoutSeconds);
        PositiveSeconds(errors, "Guest:KeepaliveIntervalSeconds", options.Guest.KeepaliveIntervalSeconds);
        PositiveSeconds(errors, "Guest:KeepaliveTimeoutSeconds", options.Guest.KeepaliveTimeoutSeconds);
        PositiveSeconds(errors, "Guest:CallTimeoutSeconds", options.Guest.CallTimeoutSeconds);
        if (options.Guest.LogSpoolMiB is < 1 or > 1024)
        {
            errors.Add($"Guest:LogSpoolMiB: {options.Guest.LogSpoolMiB} must be from 1 to 1024");
        }
        if (!options.RuntimeHandlers.ContainsKey(options.DefaultRuntimeHandler))
        {
            errors.Add($"DefaultRuntimeHandler: '{options.DefaultRuntimeHandler}' is not one of the RuntimeHandlers ({string.Join(", ", options.RuntimeHandlers.Keys)})");
        }

        if (options.Microvm.MaxVms < 1 || (ulong)options.Microvm.FirstId + ((ulong)options.Microvm.MaxVms * 65536) > uint.MaxValue)
        {
            errors.Add($"Microvm:FirstId, MaxVms: {options.Microvm.MaxVms} VMs of 65536 ids each from {options.Microvm.FirstId} do not fit below 2^32 (or MaxVms is below 1)");
        }

        foreach (var (name, handler) in options.RuntimeHandlers)
        {
            var key = "RuntimeHandlers:" + name;
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                errors.Add($"{key}: a handler name is letters, digits, '-', '_' and '.'");
            }

            if (handler.VirtualCpus is < 1 or > 256)
            {
                errors.Add($"{key}:VirtualCpus: {handler.VirtualCpus} must be 1 to 256");
            }

            if (handler.MemoryMiB is < 64 or > 1024 * 1024)
            {
                errors.Add($"{key}:MemoryMiB: {handler.MemoryMiB} must be at least 64");
            }

            if (handler.MaxVirtualCpus is < 0 or > 256)
            {
                errors.Add($"{key}:MaxVirtualCpus: {handler.MaxVirtualCpus} must be 0 (the host's CPU count) to 256");
            }

            if (handler.HugepagesMaxMiB < 0 || handler.HugepagesMaxMiB % 128 != 0)
            {
                errors.Add($"{key}:HugepagesMaxMiB: {handler.HugepagesMaxMiB} must be 0 or a multiple of 128 (the guest plugs memory in 128 MiB blocks)");
            }

            if (handler.BlockDeviceSlots is < 0 or > 16)
            {
                errors.Add($"{key}:BlockDeviceSlots: {handler.BlockDeviceSlots} must be 0 to 16");
            }

            if (handler.MaxMemoryMiB is < 0 or > 1024 * 1024)
            {
                errors.Add($"{key}:MaxMemoryMiB: {handler.MaxMemoryMiB} must be 0 (the host's memory) to 1048576");
            }

            if (handler.Vmm is not ("libvirt" or "microvm"))
            {
                errors.Add($"{key}:Vmm: '{handler.Vmm}' must be libvirt or microvm");
            }
            else if (handler.Vmm == "microvm" && handler.HugepagesMaxMiB > 0)
            {
                errors.Add($"{key}:HugepagesMaxMiB: {handler.HugepagesMaxMiB} needs {key}:Vmm libvirt (a microvm has no device memory for hugepages)");
            }

            if (handler.KernelPath.Length > 0)
            {
                AbsolutePath(errors, key + ":KernelPath", handler.KernelPath);
            }

            if (handler.InitramfsPath.Length > 0)
            {
                AbsolutePath(errors, key + ":InitramfsPath", handler.InitramfsPath);
            }
        }

        if (options.Images.PullAttempts is < 1 or > 20)
        {
            errors.Add($"Images:PullAttempts: {options.Images.PullAttempts} must be 1 to 20");
        }

        foreach (var (host, registry) in options.Images.Registries)
        {
            foreach (var mirror in registry.Mirrors.Where(m => string.IsNullOrWhiteSpace(m) || m.Any(char.IsWhiteSpace)))
            {
                errors.Add($"Images:Registries:{host}:Mirrors: '{mirror}' is not a host[:port] or URL");
            }
        }

        AbsolutePath(errors, "Ovs:DbSocket", options.Ovs.DbSocket);
        AbsolutePath(errors, "Ovs:RunDirectory", options.Ovs.RunDirectory);
        if (options.Ovs.Bridge.Length is 0 or > 15 || !options.Ovs.Bridge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add($"Ovs:Bridge: '{options.Ovs.Bridge}' must be 1 to 15 letters, digits, '-', '_' or '.' (an interface name)");
        }

        if (options.Ovs.Datapath is not ("auto" or "system" or "netdev"))
        {
            errors.Add($"Ovs:Datapath: '{options.Ovs.Datapath}' must be auto, system or netdev");
        }

        if (options.Ovs.SegmentPrefixLength is < 8 or > 30)
        {
            errors.Add($"Ovs:SegmentPrefixLength: {options.Ovs.SegmentPrefixLength} must be 8 to 30");
        }

        if (options.Ovs.FirstVlan < 1 || options.Ovs.LastVlan > 4094 || options.Ovs.FirstVlan > options.Ovs.LastVlan)
        {
            errors.Add($"Ovs:FirstVlan, Ovs:LastVlan: {options.Ovs.FirstVlan} to {options.Ovs.LastVlan} must be a range within 1 to 4094");
        }

        ValidateNetwork(errors, options.Network);
        if (!System.Net.IPAddress.TryParse(options.Metrics.Address, out _))
        {
            errors.Add($"Metrics:Address: '{options.Metrics.Address}' is not an IP address");
        }

        if (options.Metrics.Port is < 0 or > 65535)
        {
            errors.Add($"Metrics:Port: {options.Metrics.Port} must be 0 (no listener) to 65535");
        }

        if (!System.Net.IPAddress.TryParse(options.Streaming.Address, out _))
        {
            errors.Add($"Streaming:Address: '{options.Streaming.Address}' is not an IP address");
        }

        if (options.Streaming.Port is < 0 or > 65535)
        {
            errors.Add($"Streaming:Port: {options.Streaming.Port} must be 0 (any free port) to 65535");
        }

        if (options.Streaming.IdleTimeoutSeconds is < 0 or > 7 * 24 * 3600)
        {
            errors.Add($"Streaming:IdleTimeoutSeconds: {options.Streaming.IdleTimeoutSeconds} must be 0 (never) to 604800");
        }

        if (options.Streaming.TokenLifetimeSeconds is < 1 or > 3600)
        {
            errors.Add($"Streaming:TokenLifetimeSeconds: {options.Streaming.TokenLifetimeSeconds} must be 1 to 3600");
        }
        return errors;
    }

    private static void ValidateNetwork(List<string> errors, NetworkOptions network)
    {
        if (network.PodCidr.Length > 0)
        {
            try
            {
                NodeNetworkConfig.ParsePodCidrs(network.PodCidr);
            }
            catch (InvalidRequestException e)
            {
                errors.Add($"Network:PodCidr: {e.Message}");
            }
        }

        if (network.Mtu is < 576 or > 9216)
        {
            errors.Add($"Network:Mtu: {network.Mtu} must be 576 to 9216");
        }

        if (network.RepairIntervalSeconds is < 0 or > 3600)
        {
            errors.Add($"Network:RepairIntervalSeconds: {network.RepairIntervalSeconds} must be 0 (never) to 3600");
        }

        SnatAddress(errors, "Network:SnatAddress", network.SnatAddress);
        foreach (var (name, policy) in network.Namespaces)
        {
            SnatAddress(errors, $"Network:Namespaces:{name}:SnatAddress", policy.SnatAddress);
        }
    }

    private static void SnatAddress(List<string> errors, string key, string value)
    {
        if (value.Length > 0 && (!System.Net.IPAddress.TryParse(value, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            errors.Add($"{key}: '{value}' is not an IPv4 address");
        }
    }

    /// <summary>"auto", "systemd" or "cgroupfs" (any case); null for anything else.</summary>
    public static string? ParseCgroupDriver(string value) =>
        value?.ToUpperInvariant() switch
        {
            "AUTO" => "auto",
            "SYSTEMD" => "systemd",
            "CGROUPFS" => "cgroupfs",
            _ => null,
        };

    private static void PositiveSeconds(List<string> errors, string key, double value)
    {
        if (!double.IsFinite(value) || value <= 0 || value > 86400)
        {
            errors.Add($"{key}: {value} must be a number of seconds above 0 and at most 86400");
        }
    }

    private static void AbsolutePath(List<string> errors, string key, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{key}: must not be empty");
        }
        else if (!Path.IsPathRooted(value))
        {
            errors.Add($"{key}: '{value}' must be an absolute path");
        }
        else if (value.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"{key}: must not contain a NUL character");
        }
    }
}
