using System.Text;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Native;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Guest;

/// <summary>
/// Applies the host's ConfigureSandbox: hostname, resolv.conf and hosts (written to /etc and
/// to <see cref="FilesDirectory"/>, where container specs bind-mount them from), sysctls,
/// network interfaces (found by MAC, renamed, addressed, brought up) and routes.
/// </summary>
internal sealed class SandboxConfigurator
{
    /// <summary>The sandbox's hostname, hosts and resolv.conf, for containers to mount.</summary>
    public const string FilesDirectory = "/run/crx/sandbox";

    private readonly string _busybox;
    private readonly bool _applyToSystem;

    /// <param name="busybox">The busybox binary whose <c>ip</c> applet configures links and routes.</param>
    /// <param name="applyToSystem">False in tests on a host: only the files are written.</param>
    public SandboxConfigurator(string busybox, bool applyToSystem)
    {
        _busybox = busybox;
        _applyToSystem = applyToSystem;
    }

    public async Task ConfigureAsync(ConfigureSandbox request, string filesDirectory)
    {
        Validate(request);
        Directory.CreateDirectory(filesDirectory);
        var hostname = request.Hostname;
        var hosts = new StringBuilder()
            .Append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if (hostname.Length > 0)
        {
            hosts.Append("127.0.1.1\t").Append(hostname).Append('\n');
        }

        foreach (var line in request.Hosts)
        {
            hosts.Append(line).Append('\n');
        }

        var resolv = new StringBuilder();
        foreach (var server in request.DnsServers)
        {
            resolv.Append("nameserver ").Append(server).Append('\n');
        }

        if (request.DnsSearches.Count > 0)
        {
            resolv.Append("search ").AppendJoin(' ', request.DnsSearches).Append('\n');
        }

        if (request.DnsOptions.Count > 0)
        {
            resolv.Append("options ").AppendJoin(' ', request.DnsOptions).Append('\n');
        }

        await WriteAsync(Path.Combine(filesDirectory, "hostname"), hostname + "\n");
        await WriteAsync(Path.Combine(filesDirectory, "hosts"), hosts.ToString());
        await WriteAsync(Path.Combine(filesDirectory, "resolv.conf"), resolv.ToString());
        CrxLog.Info(
            $"sandbox configured hostname={hostname} nameservers={string.Join(',', request.DnsServers)} " +
            $"search={string.Join(',', request.DnsSearches)} options={string.Join(',', request.DnsOptions)} " +
            $"interfaces={request.Interfaces.Count} routes={request.Routes.Count} sysctls={request.Sysctls.Count}");
        if (!_applyToSystem)
        {
            return;
        }

        if (hostname.Length > 0)
        {
            SetHostname(hostname);
            await WriteAsync("/etc/hostname", hostname + "\n");
        }

        await WriteAsync("/etc/hosts", hosts.ToString());
        await WriteAsync("/etc/resolv.conf", resolv.ToString());
        foreach (var (key, value) in request.Sysctls)
        {
            await File.WriteAllTextAsync("/proc/sys/" + key.Replace('.', '/'), value);
        }

        foreach (var nic in request.Interfaces)
        {
            await ConfigureInterfaceAsync(nic);
        }

        foreach (var route in request.Routes)
        {
            var args = new List<string> { "route", "replace", route.Destination.Length > 0 ? route.Destination : "default" };
            if (route.Gateway.Length > 0)
            {
                args.AddRange(["via", route.Gateway]);
            }

            if (route.Device.Length > 0)
            {
                args.AddRange(["dev", route.Device]);
            }

            await IpAsync(args);
        }
    }

    /// <summary>
    /// Sets the VM's wall clock to the host's (the RTC the kernel starts from has whole seconds,
    /// and a VM's clock drifts): container times and CRI log timestamps then agree with the host.
    /// </summary>
    /// <param name="tolerance">The clock is left alone when it is off by less than this.</param>
    public void SetClock(long unixNanos, TimeSpan tolerance)
    {
        var guestNanos = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        if (!_applyToSystem || Math.Abs(unixNanos - guestNanos) < tolerance.Ticks * 100)
        {
            return;
        }

        var time = new Native.Timespec { Seconds = unixNanos / 1_000_000_000, Nanoseconds = unixNanos % 1_000_000_000 };
        if (Native.Sys.clock_settime(Native.Sys.CLOCK_REALTIME, in time) != 0)
        {
            CrxLog.Warn($"clock_settime: {Native.Sys.LastError()}");
            return;
        }

        CrxLog.Verbose($"clock set from the host guest_was_behind_ms={(unixNanos - guestNanos) / 1_000_000}");
    }

    /// <summary>Brings the loopback interface up (at boot).</summary>
    public Task LoopbackUpAsync() => IpAsync(["link", "set", "dev", "lo", "up"]);

    private static void Validate(ConfigureSandbox request)
    {
        if (request.Hostname.Length > 64 || request.Hostname.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')))
        {
            throw Invalid($"hostname '{request.Hostname}' is not a valid host name");
        }

        foreach (var key in request.Sysctls.Keys)
        {
            if (key.Length == 0 || key.Contains("..", StringComparison.Ordinal) || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            {
                throw Invalid($"sysctl '{key}' is not a sysctl name");
            }
        }

        foreach (var line in request.Hosts.Concat(request.DnsServers).Concat(request.DnsSearches).Concat(request.DnsOptions))
        {
            if (line.Contains('\n', StringComparison.Ordinal))
            {
                throw Invalid("DNS and hosts entries must be single lines");
            }
        }
    }

    private static CrxRequestException Invalid(string message) => new(CrxProtocol.Codes.InvalidArgument, message);

    private static async Task WriteAsync(string path, string content)
    {
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static unsafe void SetHostname(string hostname)
    {
        var bytes = Encoding.ASCII.GetBytes(hostname);
        fixed (byte* p = bytes)
        {
            if (Sys.sethostname(p, (nuint)bytes.Length) != 0)
            {
                throw new CrxRequestException(CrxProtocol.Codes.Internal, "sethostname failed: " + Sys.LastError());
            }
        }
    }

    private async Task ConfigureInterfaceAsync(Interface nic)
    {
        var device = FindDevice(nic);
        if (nic.Name.Length > 0 && nic.Name != device)
        {
            await IpAsync(["link", "set", "dev", device, "down"]);
            await IpAsync(["link", "set", "dev", device, "name", nic.Name]);
            device = nic.Name;
        }

        if (nic.Mtu > 0)
        {
            await IpAsync(["link", "set", "dev", device, "mtu", nic.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (nic.Addresses.Any(a => a.Contains(':', StringComparison.Ordinal)))
        {
            // IPv6 addresses skip duplicate address detection (busybox ip has no "nodad"): the
            // host hands out each address once, and DAD would hold it back for a second or more.
            await File.WriteAllTextAsync($"/proc/sys/net/ipv6/conf/{device}/accept_dad", "0");
        }

        foreach (var address in nic.Addresses)
        {
            await IpAsync(["addr", "add", address, "dev", device]);
        }

        await IpAsync(["link", "set", "dev", device, "up"]);
    }

    private static string FindDevice(Interface nic)
    {
        foreach (var dir in Directory.EnumerateDirectories("/sys/class/net"))
        {
            var name = Path.GetFileName(dir);
            if (nic.Mac.Length > 0 && string.Equals(File.ReadAllText(Path.Combine(dir, "address")).Trim(), nic.Mac, StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }

            if (nic.Mac.Length == 0 && name == nic.Name)
            {
                return name;
            }
        }

        throw new CrxRequestException(CrxProtocol.Codes.NotFound, $"no network interface with MAC '{nic.Mac}' or name '{nic.Name}'");
    }

    private async Task IpAsync(List<string> args)
    {
        var argv = new List<string> { "ip" };
        argv.AddRange(args);
        var devNull = Sys.open("/dev/null", Sys.O_RDWR | Sys.O_CLOEXEC, 0);
        using var errors = Pipe.Create();
        int pid;
        try
        {
            pid = ProcessSpawner.Spawn(_busybox, argv, ["PATH=/bin"], devNull, devNull, errors.WriteFd, newSession: false);
        }
        finally
        {
            Sys.close(devNull);
            errors.CloseWrite();
        }

        using var reader = new StreamReader(errors.TakeReader());
        var stderr = await reader.ReadToEndAsync();
        var (code, _) = Reaper.Decode(await Reaper.WaitAsync(pid));
        Reaper.Forget(pid);
        if (code != 0)
        {
            throw new CrxRequestException(CrxProtocol.Codes.Internal, $"ip {string.Join(' ', args)} failed: {stderr.Trim()}");
        }
    }
}
