using System.Text.Json.Nodes;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// The image the container tests run: one layer with Debian's busybox-static and the applets
/// the tests call, an /etc/passwd and /etc/group with root, a user <c>app</c> (1234:1234) that
/// is also a member of the group <c>extra</c> (4321), /tmp (1777), /work and a small web root
/// /www for busybox httpd. Config: Cmd ["/bin/sh"], Env PATH=/bin, the user root.
/// </summary>
public static class ContainerTestImage
{
    public const string Repository = "tests/containers";

    public const string Tag = "1.0";

    /// <summary>The same image under a second tag that the daemon is never asked to pull.</summary>
    public const string NotPulledTag = "not-pulled";

    public const int AppUid = 1234;

    public const int AppGid = 1234;

    public const int ExtraGid = 4321;

    /// <summary>What <c>httpd -h /www</c> serves at /.</summary>
    public const string WebPage = "served from the pod's other container";

    public static readonly IReadOnlyList<string> Applets =
    [
        "sh", "echo", "cat", "sleep", "true", "false", "id", "pwd", "touch", "ls", "head", "tr", "dd",
        "nc", "httpd", "wget", "env", "mkdir", "rm", "stat", "wc", "grep", "printf", "test", "kill", "ps", "stty", "tty",
        "nsenter", "mknod", "ln", "mv", "chmod", "find", "sort",
    ];

    /// <summary>Pushes the image under <see cref="Tag"/> and <see cref="NotPulledTag"/>; returns its id (the config digest).</summary>
    public static async Task<string> PushAsync(RegistryServer registry)
    {
        using var pusher = new RegistryPusher(registry);
        var layer = Layer();
        var pushed = await pusher.PushImageAsync(Repository, Tag, [layer], Config());
        await pusher.PushImageAsync(Repository, NotPulledTag, [layer], Config());
        return pushed.ConfigDigest;
    }

    public static (byte[] Blob, string Digest, string DiffId) Layer()
    {
        var layer = new TestLayer()
            .Directory("bin")
            .File("bin/busybox", File.ReadAllBytes("/bin/busybox"), (UnixFileMode)0b111_101_101);
        foreach (var applet in Applets)
        {
            layer.Symlink("bin/" + applet, "busybox");
        }

        return layer
            .Directory("etc")
            .Text("etc/passwd", $"root:x:0:0:root:/root:/bin/sh\napp:x:{AppUid}:{AppGid}:app:/work:/bin/sh\n")
            .Text("etc/group", $"root:x:0:\napp:x:{AppGid}:\nextra:x:{ExtraGid}:app\n")
            .Directory("root", (UnixFileMode)0b111_000_000)
            .Directory("tmp", (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit)
            .Directory("work")
            .Directory("www")
            .Text("www/index.html", WebPage)
            .Build();
    }

    public static JsonObject Config() => new()
    {
        ["Cmd"] = new JsonArray("/bin/sh"),
        ["Env"] = new JsonArray("PATH=/bin"),
        ["User"] = string.Empty,
    };
}
