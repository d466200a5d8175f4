using System.Security.Cryptography;
using Spherelet.Images;
using Spherelet.Images.Store;

namespace Spherelet.Tests.Images;

public sealed class ContentStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-content-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Descriptor Describe(byte[] content) =>
        new("application/octet-stream", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);

    private string[] TempFiles() => Directory.GetFiles(Path.Combine(_root, "tmp"));

    [Fact]
    public async Task A_blob_is_stored_under_its_digest_once_verified()
    {
        var store = new ContentStore(_root);
        var content = RandomNumberGenerator.GetBytes(300_000);
        var descriptor = Describe(content);
        long reported = 0;

        var path = await store.EnsureAsync(descriptor, _ => Task.FromResult<Stream>(new MemoryStream(content)), new CallbackProgress(n => Interlocked.Add(ref reported, n)), CancellationToken.None);

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal(Path.Combine(_root, "blobs", "sha256", descriptor.Digest[7..]), path);
        Assert.Equal(content.Length, reported);
        Assert.Equal([descriptor.Digest], store.AllDigests());
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Content_that_does_not_match_its_digest_is_refused_and_leaves_no_blob()
    {
        var store = new ContentStore(_root);
        var descriptor = Describe([1, 2, 3]);

        var wrong = await Assert.ThrowsAsync<ImageException>(() => store.EnsureAsync(descriptor, _ => Task.FromResult<Stream>(new MemoryStream([1, 2, 4])), null, CancellationToken.None));
        var longer = await Assert.ThrowsAsync<ImageException>(() => store.EnsureAsync(descriptor, _ => Task.FromResult<Stream>(new MemoryStream([1, 2, 3, 4])), null, CancellationToken.None));
        var shorter = await Assert.ThrowsAsync<ImageException>(() => store.EnsureAsync(descriptor, _ => Task.FromResult<Stream>(new MemoryStream([1, 2])), null, CancellationToken.None));

        Assert.All(new[] { wrong, longer, shorter }, e => Assert.Equal(ImageErrorKind.DigestMismatch, e.Kind));
        Assert.Contains(descriptor.Digest, wrong.Message, StringComparison.Ordinal);
        Assert.False(store.Has(descriptor.Digest));
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task An_interrupted_download_leaves_no_partial_blob()
    {
        var store = new ContentStore(_root);
        var content = RandomNumberGenerator.GetBytes(200_000);

        await Assert.ThrowsAsync<IOException>(() => store.EnsureAsync(Describe(content), _ => Task.FromResult<Stream>(new FailingStream(content, failAfter: 100_000)), null, CancellationToken.None));

        Assert.Empty(store.AllDigests());
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Concurrent_writers_of_one_blob_share_one_download()
    {
        var store = new ContentStore(_root);
        var content = RandomNumberGenerator.GetBytes(100_000);
        var opened = 0;
        var gate = new TaskCompletionSource();
        async Task<Stream> Open(CancellationToken token)
        {
            Interlocked.Increment(ref opened);
            await gate.Task;
            return new MemoryStream(content);
        }

        var writers = Enumerable.Range(0, 5).Select(_ => store.EnsureAsync(Describe(content), Open, null, CancellationToken.None)).ToList();
        gate.SetResult();
        var paths = await Task.WhenAll(writers);

        Assert.Equal(1, opened);
        Assert.Single(paths.Distinct());
    }

    [Fact]
    public async Task Small_content_is_checked_against_its_digest()
    {
        var store = new ContentStore(_root);
        byte[] manifest = "{\"schemaVersion\":2}"u8.ToArray();

        await store.PutAsync(Describe(manifest).Digest, manifest, CancellationToken.None);
        var bad = await Assert.ThrowsAsync<ImageException>(() => store.PutAsync(Describe([9]).Digest, manifest, CancellationToken.None));

        Assert.Equal(manifest, await store.ReadAllAsync(Describe(manifest).Digest, CancellationToken.None));
        Assert.Equal(ImageErrorKind.DigestMismatch, bad.Kind);
        Assert.Throws<ImageException>(() => store.BlobPath("md5:abc"));
    }
}
