using System.Text.Json.Nodes;
using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>CRX finding a hot-plugged disk by its serial (a /sys/block made of plain files) and giving it to the container.</summary>
public sealed class BlockDevicesTests : IDisposable
{
    private readonly string _sys = Directory.CreateTempSubdirectory("spherelet-sysblock-").FullName;

    public void Dispose() => Directory.Delete(_sys, recursive: true);

    [Fact]
    public async Task The_annotated_node_gets_the_disks_numbers_and_a_rule_with_the_permissions_asked()
    {
        Disk("vda", "other", "253:0");
        Disk("vdb", "sph0011223344556677", "253:16");
        var spec = Spec("sph0011223344556677:rw");

        await BlockDevices.ResolveAsync(spec, _sys, TimeSpan.FromSeconds(1));

        var node = spec["linux"]!["devices"]![0]!;
        Assert.Equal((253L, 16L), ((long)node["major"]!, (long)node["minor"]!));
        var rule = spec["linux"]!["resources"]!["devices"]!.AsArray().Last()!;
        Assert.Equal(("b", 253L, 16L, "rw"), ((string?)rule["type"], (long)rule["major"]!, (long)rule["minor"]!, (string?)rule["access"]));
    }

    [Fact]
    public async Task A_disk_that_does_not_appear_in_time_fails_the_create()
    {
        var error = await Assert.ThrowsAsync<CrxRequestException>(() => BlockDevices.ResolveAsync(Spec("sphmissing:r"), _sys, TimeSpan.FromMilliseconds(300)));

        Assert.Contains("sphmissing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disk_plugged_while_the_create_waits_is_found()
    {
        var spec = Spec("sphlate:r");
        var waiting = BlockDevices.ResolveAsync(spec, _sys, TimeSpan.FromSeconds(5));
        await Task.Delay(300);
        Disk("vdc", "sphlate", "253:32");

        await waiting;

        Assert.Equal(32L, (long)spec["linux"]!["devices"]![0]!["minor"]!);
    }

    private void Disk(string name, string serial, string dev)
    {
        Directory.CreateDirectory(Path.Combine(_sys, name));
        File.WriteAllText(Path.Combine(_sys, name, "dev"), dev + "\n");
        File.WriteAllText(Path.Combine(_sys, name, "serial"), serial);
    }

    private static JsonObject Spec(string annotation) => JsonNode.Parse(
        "{\"annotations\":{\"io.spherelet.block-device//dev/xvda\":\"" + annotation + "\"},"
        + "\"linux\":{\"devices\":[{\"path\":\"/dev/xvda\",\"type\":\"b\",\"major\":0,\"minor\":0}],\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}}")!.AsObject();
}
