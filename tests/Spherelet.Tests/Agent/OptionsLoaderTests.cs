using System.Collections;
using Spherelet.Agent.Options;

namespace Spherelet.Tests.Agent;

public sealed class OptionsLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spherelet-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Defaults_are_the_documented_paths()
    {
        var options = OptionsLoader.Load(new CommandLineSettings(ConfigPath: null), new Hashtable());

        Assert.Equal("/run/spherelet/spherelet.sock", options.Socket);
        Assert.Equal("/var/lib/spherelet", options.Root);
        Assert.Equal("/run/spherelet", options.State);
        Assert.Equal("qemu:///system", options.LibvirtUri);
    }

    [Fact]
    public void Command_line_beats_environment_which_beats_the_file()
    {
        var file = Write("""{ "socket": "/file/s.sock", "root": "/file/root", "state": "/file/state", "guest": { "kernelPath": "/file/vmlinuz" } }""");
        var environment = new Hashtable { ["SPHERELET__ROOT"] = "/env/root", ["SPHERELET__STATE"] = "/env/state", ["OTHER"] = "x" };

        var options = OptionsLoader.Load(new CommandLineSettings(ConfigPath: file, State: "/cli/state"), environment);

        Assert.Equal("/file/s.sock", options.Socket);
        Assert.Equal("/env/root", options.Root);
        Assert.Equal("/cli/state", options.State);
        Assert.Equal("/file/vmlinuz", options.Guest.KernelPath);
    }

    [Fact]
    public void Nested_keys_come_from_double_underscore_environment_variables()
    {
        var environment = new Hashtable { ["SPHERELET__GUEST__INITRAMFSPATH"] = "/env/initramfs.img" };

        var options = OptionsLoader.Load(new CommandLineSettings(), environment);

        Assert.Equal("/env/initramfs.img", options.Guest.InitramfsPath);
    }

    [Fact]
    public void Relative_socket_path_fails_naming_the_key()
    {
        var error = Assert.Throws<OptionsLoadException>(() =>
            OptionsLoader.Load(new CommandLineSettings(Socket: "relative.sock"), new Hashtable()));
        Assert.Contains("Socket: 'relative.sock' must be an absolute path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_long_socket_path_fails_naming_the_key()
    {
        var error = Assert.Throws<OptionsLoadException>(() =>
            OptionsLoader.Load(new CommandLineSettings(Socket: "/" + new string('s', 120)), new Hashtable()));
        Assert.Contains("Socket:", error.Message, StringComparison.Ordinal);
        Assert.Contains("107 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_key_in_the_file_fails_naming_it()
    {
        var file = Write("""{ "sockt": "/x.sock", "guest": { "kernel": "/k" } }""");

        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(new CommandLineSettings(ConfigPath: file), new Hashtable()));

        Assert.Equal(["guest:kernel: unknown configuration key", "sockt: unknown configuration key"], error.Problems.Order());
    }

    [Fact]
    public void Bad_values_are_all_reported_at_once()
    {
        var environment = new Hashtable { ["SPHERELET__LOGLEVEL"] = "loud", ["SPHERELET__CGROUPDRIVER"] = "cgroupv3", ["SPHERELET__LIBVIRTURI"] = "nope" };

        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(new CommandLineSettings(), environment));

        Assert.Contains(error.Problems, p => p.StartsWith("LogLevel: 'loud'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("CgroupDriver: 'cgroupv3'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("LibvirtUri: 'nope'", StringComparison.Ordinal));
    }

    [Fact]
    public void Network_options_bind_per_namespace_policy_and_bad_values_are_named()
    {
        var file = Write("""{ "network": { "podCidr": "10.244.0.0/16", "mtu": 1400, "keepSegments": true, "repairIntervalSeconds": 2, "namespaces": { "secure": { "isolated": true, "snatAddress": "192.0.2.7" } } } }""");

        var options = OptionsLoader.Load(new CommandLineSettings(ConfigPath: file), new Hashtable());
        var bad = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__NETWORK__PODCIDR"] = "10.244.0.1/16", ["SPHERELET__NETWORK__MTU"] = "100", ["SPHERELET__NETWORK__REPAIRINTERVALSECONDS"] = "-1", ["SPHERELET__NETWORK__NAMESPACES__web__SNATADDRESS"] = "fd00::1" }));

        Assert.Equal(("10.244.0.0/16", 1400, true), (options.Network.PodCidr, options.Network.Mtu, options.Network.KeepSegments));
        Assert.Equal(2, options.Network.RepairIntervalSeconds);
        Assert.Equal(10, new NetworkOptions().RepairIntervalSeconds);
        Assert.True(options.Network.Namespaces["secure"].Isolated);
        Assert.Equal("192.0.2.7", options.Network.Namespaces["secure"].SnatAddress);
        Assert.Contains(bad.Problems, p => p.StartsWith("Network:PodCidr: pod CIDR '10.244.0.1/16'", StringComparison.Ordinal));
        Assert.Contains("Network:Mtu: 100 must be 576 to 9216", bad.Problems);
        Assert.Contains("Network:RepairIntervalSeconds: -1 must be 0 (never) to 3600", bad.Problems);
        Assert.Contains("Network:Namespaces:web:SnatAddress: 'fd00::1' is not an IPv4 address", bad.Problems);
    }

    [Fact]
    public void Streaming_options_are_checked_at_start()
    {
        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__STREAMING__ADDRESS"] = "localhost", ["SPHERELET__STREAMING__PORT"] = "70000", ["SPHERELET__STREAMING__TOKENLIFETIMESECONDS"] = "0", ["SPHERELET__STREAMING__IDLETIMEOUTSECONDS"] = "-5" }));

        Assert.Contains("Streaming:Address: 'localhost' is not an IP address", error.Problems);
        Assert.Contains("Streaming:Port: 70000 must be 0 (any free port) to 65535", error.Problems);
        Assert.Contains("Streaming:TokenLifetimeSeconds: 0 must be 1 to 3600", error.Problems);
        Assert.Contains("Streaming:IdleTimeoutSeconds: -5 must be 0 (never) to 604800", error.Problems);
        Assert.Equal(14400, new SphereletOptions().Streaming.IdleTimeoutSeconds);
        Assert.Equal(("127.0.0.1", 0, 60), (new SphereletOptions().Streaming.Address, new SphereletOptions().Streaming.Port, new SphereletOptions().Streaming.TokenLifetimeSeconds));
    }

    [Fact]
    public void The_default_handler_runs_microvms_a_libvirt_handler_is_always_there_and_configured_handlers_keep_both()
    {
        var defaults = OptionsLoader.Load(new CommandLineSettings(), new Hashtable());
        Assert.Equal(("microvm", "libvirt"), (defaults.RuntimeHandlers["default"].Vmm, defaults.RuntimeHandlers["libvirt"].Vmm));

        var configured = OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__RUNTIMEHANDLERS__default__MEMORYMIB"] = "512", ["SPHERELET__RUNTIMEHANDLERS__big__VIRTUALCPUS"] = "2" });
        Assert.Equal(["big", "default", "libvirt"], configured.RuntimeHandlers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((512, "microvm"), (configured.RuntimeHandlers["default"].MemoryMiB, configured.RuntimeHandlers["default"].Vmm));
        Assert.Equal("microvm", configured.RuntimeHandlers["big"].Vmm);
        Assert.Equal("libvirt", configured.RuntimeHandlers["libvirt"].Vmm);
    }

    [Fact]
    public void Hugepages_on_a_microvm_handler_are_refused_at_start_naming_the_libvirt_backend()
    {
        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__RUNTIMEHANDLERS__huge__HUGEPAGESMAXMIB"] = "128" }));

        Assert.Contains(error.Problems, p => p.StartsWith("RuntimeHandlers:huge:HugepagesMaxMiB: 128 needs RuntimeHandlers:huge:Vmm libvirt", StringComparison.Ordinal));
        var libvirt = OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__RUNTIMEHANDLERS__huge__HUGEPAGESMAXMIB"] = "128", ["SPHERELET__RUNTIMEHANDLERS__huge__VMM"] = "libvirt" });
        Assert.Equal(128, libvirt.RuntimeHandlers["huge"].HugepagesMaxMiB);
    }

    [Fact]
    public void Metrics_listen_on_loopback_port_9464_by_default_and_bad_values_are_named()
    {
        var defaults = OptionsLoader.Load(new CommandLineSettings(), new Hashtable());
        Assert.Equal(("127.0.0.1", 9464), (defaults.Metrics.Address, defaults.Metrics.Port));
        Assert.Equal(0, OptionsLoader.Load(new CommandLineSettings(), new Hashtable { ["SPHERELET__METRICS__PORT"] = "0" }).Metrics.Port);

        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(
            new CommandLineSettings(),
            new Hashtable { ["SPHERELET__METRICS__ADDRESS"] = "localhost", ["SPHERELET__METRICS__PORT"] = "-1" }));

        Assert.Contains("Metrics:Address: 'localhost' is not an IP address", error.Problems);
        Assert.Contains("Metrics:Port: -1 must be 0 (no listener) to 65535", error.Problems);
    }

    [Fact]
    public void Missing_explicit_config_file_fails()
    {
        var error = Assert.Throws<OptionsLoadException>(() =>
            OptionsLoader.Load(new CommandLineSettings(ConfigPath: Path.Combine(_dir, "absent.json")), new Hashtable()));
        Assert.Contains("Config:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_fails_naming_the_file()
    {
        var file = Write("{ socket: ");
        var error = Assert.Throws<OptionsLoadException>(() => OptionsLoader.Load(new CommandLineSettings(ConfigPath: file), new Hashtable()));
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    private string Write(string json)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
