using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>Small OCI runtime specs for busybox containers in the test VM's /pod/rootfs.</summary>
public static class OciSpecs
{
    private static readonly string[] Capabilities = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"];

    public static byte[] Container(string id, params string[] args) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = Process(args),
            ["root"] = new JsonObject { ["path"] = "/pod/rootfs", ["readonly"] = true },
            ["hostname"] = id,
            ["mounts"] = new JsonArray(
                Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
                Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
                Mount("/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro")),
            ["linux"] = new JsonObject
            {
                ["namespaces"] = new JsonArray(Namespace("pid"), Namespace("ipc"), Namespace("uts"), Namespace("mount")),
                ["cgroupsPath"] = "/spherelet/" + id,
            },
        });

    public static byte[] ExecProcess(params string[] args) => JsonSerializer.SerializeToUtf8Bytes(Process(args));

    private static JsonObject Process(string[] args) => new()
    {
        ["terminal"] = false,
        ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
        ["args"] = new JsonArray(args.Select(a => (JsonNode)a!).ToArray()),
        ["env"] = new JsonArray("PATH=/bin", "HOME=/root"),
        ["cwd"] = "/",
        ["capabilities"] = new JsonObject
        {
            ["bounding"] = Strings(Capabilities),
            ["effective"] = Strings(Capabilities),
            ["permitted"] = Strings(Capabilities),
        },
        ["noNewPrivileges"] = true,
    };

    private static JsonArray Strings(string[] values) => new(values.Select(v => (JsonNode)v!).ToArray());

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = Strings(options),
    };

    private static JsonObject Namespace(string type) => new() { ["type"] = type };
}
