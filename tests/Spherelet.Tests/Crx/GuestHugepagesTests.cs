using System.Text.Json.Nodes;
using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>CRX raising the VM's 2 MiB hugepage pool to what the pod needs (a pool made of a plain file).</summary>
public sealed class GuestHugepagesTests : IDisposable
{
    private readonly string _pool = Directory.CreateTempSubdirectory("spherelet-hugepages-").FullName;

    public void Dispose() => Directory.Delete(_pool, recursive: true);

    [Fact]
    public async Task The_pool_is_raised_to_the_pods_pages_and_never_lowered()
    {
        var file = Path.Combine(_pool, "nr_hugepages");
        File.WriteAllText(file, "2\n");

        await GuestHugepages.EnsureAsync(Spec("6"), _pool, TimeSpan.FromSeconds(1));
        Assert.Equal("6", File.ReadAllText(file).Trim());

        await GuestHugepages.EnsureAsync(Spec("3"), _pool, TimeSpan.FromSeconds(1));
        Assert.Equal("6", File.ReadAllText(file).Trim());
    }

    [Fact]
    public async Task A_pool_that_cannot_grow_fails_the_create_saying_how_far_it_got()
    {
        // A directory where the pool's file would be: every write fails, as a kernel short of memory does.
        Directory.CreateDirectory(Path.Combine(_pool, "nr_hugepages"));

        var error = await Assert.ThrowsAsync<CrxRequestException>(() => GuestHugepages.EnsureAsync(Spec("4"), _pool, TimeSpan.FromMilliseconds(300)));

        Assert.Contains("0 of the 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spec_without_the_annotation_changes_nothing() =>
        await GuestHugepages.EnsureAsync(JsonNode.Parse("{}")!.AsObject(), Path.Combine(_pool, "missing"), TimeSpan.Zero);

    private static JsonObject Spec(string pages) => JsonNode.Parse("{\"annotations\":{\"io.spherelet.hugepages-2MB\":\"" + pages + "\"}}")!.AsObject();
}
