using System.Text.Json.Nodes;

namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// A real registry (docker-registry on 127.0.0.1) holding images built by the tests: a
/// busybox image (Docker media types), a three-layer image with whiteouts and an opaque
/// directory (OCI media types), a manifest list pointing at the busybox image for amd64,
/// and an image whose layer tries to escape.
/// </summary>
public sealed class TestRegistry : IAsyncLifetime
{
    public RegistryServer Server { get; private set; } = null!;

    public string Busybox => $"{Server.Host}/tests/busybox:1.0";

    public string BusyboxId { get; private set; } = string.Empty;

    public string BusyboxManifestDigest { get; private set; } = string.Empty;

    public string Layered => $"{Server.Host}/tests/layered:2";

    public string LayeredId { get; private set; } = string.Empty;

    public string List => $"{Server.Host}/tests/multiarch:latest";

    public string ListDigest { get; private set; } = string.Empty;

    public string Escape => $"{Server.Host}/tests/escape:1";

    public async Task InitializeAsync()
    {
        Server = await RegistryServer.StartAsync();
        using var pusher = new RegistryPusher(Server);
        var busyboxLayer = BusyboxLayer.Build();
        var busybox = await pusher.PushImageAsync("tests/busybox", "1.0", [busyboxLayer], BusyboxConfig());
        BusyboxId = busybox.ConfigDigest;
        BusyboxManifestDigest = busybox.ManifestDigest;

        var base1 = new TestLayer().Directory("etc").Text("etc/a", "a").Text("etc/b", "b").Directory("data").Text("data/old", "old").Build();
        var change = new TestLayer().Directory("etc").Whiteout("etc/a").Text("etc/c", "c").Directory("data").Opaque("data").Text("data/new", "new").Build();
        var top = new TestLayer().Directory("app").Text("app/run.sh", "#!/bin/sh\necho run\n").Build();
        LayeredId = (await pusher.PushImageAsync("tests/layered", "2", [busyboxLayer, base1, change, top], oci: true)).ConfigDigest;

        var arm = await pusher.PushImageAsync("tests/multiarch", null, [new TestLayer().Text("arch", "arm64").Build()]);
        // The amd64 entry is the busybox image, pushed into this repository too (an index names manifests of its own repository).
        var amd64 = await pusher.PushImageAsync("tests/multiarch", null, [busyboxLayer], BusyboxConfig());
        ListDigest = await pusher.PushIndexAsync("tests/multiarch", "latest", [(arm.ManifestDigest, arm.ManifestSize, "arm64"), (amd64.ManifestDigest, amd64.ManifestSize, "amd64")]);

        var evil = new TestLayer().Text("../escaped", "gotcha").Build();
        await pusher.PushImageAsync("tests/escape", "1", [evil]);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static JsonObject BusyboxConfig() => new()
    {
        ["Cmd"] = new JsonArray("/bin/sh"),
        ["Env"] = new JsonArray("PATH=/bin", "GREETING=hello"),
        ["WorkingDir"] = "/root",
        ["User"] = "1000:1000",
        ["Labels"] = new JsonObject { ["org.spherelet.test"] = "busybox" },
        ["ExposedPorts"] = new JsonObject { ["8080/tcp"] = new JsonObject() },
    };
}
