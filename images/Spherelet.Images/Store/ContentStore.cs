using System.Collections.Concurrent;
using System.Security.Cryptography;
using Spherelet.Images.Unpacking;

namespace Spherelet.Images.Store;

/// <summary>
/// Content-addressed blobs under <c>ROOT/blobs/sha256/HEX</c>. A blob is written to a
/// temporary file while its SHA-256 is computed on the stream, checked against the expected
/// digest and size, and only then renamed into place: a mismatch or an interrupted download
/// deletes the temporary file and no partial blob is ever visible. Concurrent writers of one
/// digest share a single download.
/// </summary>
public sealed class ContentStore
{
    private readonly string _blobs;
    private readonly string _temp;
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inFlight = new(StringComparer.Ordinal);

    public ContentStore(string root)
    {
        _blobs = Path.Combine(root, "blobs", "sha256");
        _temp = Path.Combine(root, "tmp");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_temp);
        // Temporary files of a process that died mid-download are garbage.
        foreach (var stale in Directory.EnumerateFiles(_temp))
        {
            File.Delete(stale);
        }
    }

    public string BlobPath(string digest) => Path.Combine(_blobs, Digests.Hex(digest));

    public bool Has(string digest) => File.Exists(BlobPath(digest));

    public IEnumerable<string> AllDigests() =>
        Directory.EnumerateFiles(_blobs).Select(f => Digests.Sha256Prefix + Path.GetFileName(f)).Where(Digests.IsValid);

    public Stream OpenRead(string digest) =>
        new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public async Task<byte[]> ReadAllAsync(string digest, CancellationToken cancellationToken) =>
        await File.ReadAllBytesAsync(BlobPath(digest), cancellationToken);

    /// <summary>
    /// Stores the blob <paramref name="expected"/> unless it is there already, reading it from
    /// <paramref name="open"/>; reports bytes written to <paramref name="progress"/>.
    /// </summary>
    /// <returns>The blob's path.</returns>
    /// <exception cref="ImageException">DigestMismatch when the content does not match the descriptor.</exception>
    public Task<string> EnsureAsync(Descriptor expected, Func<CancellationToken, Task<Stream>> open, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var path = BlobPath(expected.Digest);
        if (File.Exists(path))
        {
            return Task.FromResult(path);
        }

        var shared = _inFlight.GetOrAdd(expected.Digest, _ => new Lazy<Task<string>>(() => DownloadAsync(expected, open, progress, cancellationToken)));
        return AwaitShared(expected.Digest, shared, cancellationToken);
    }

    /// <summary>Stores a small blob held in memory (a manifest or a config), checking it against <paramref name="digest"/>.</summary>
    public async Task<string> PutAsync(string digest, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var actual = Digests.Of(content.Span);
        if (actual != digest)
        {
            throw new ImageException(ImageErrorKind.DigestMismatch, $"content has digest {actual}, expected {digest}");
        }

        var path = BlobPath(digest);
        if (!File.Exists(path))
        {
            await AtomicWrite.WriteAsync(path, content, cancellationToken);
        }

        return path;
    }

    public void Delete(string digest) => File.Delete(BlobPath(digest));

    private async Task<string> AwaitShared(string digest, Lazy<Task<string>> shared, CancellationToken cancellationToken)
    {
        try
        {
            return await shared.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (shared.Value.IsCompleted)
            {
                _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(digest, shared));
            }
        }
    }

    private async Task<string> DownloadAsync(Descriptor expected, Func<CancellationToken, Task<Stream>> open, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var path = BlobPath(expected.Digest);
        var temp = Path.Combine(_temp, $"{Digests.Hex(expected.Digest)}.{Guid.NewGuid():N}");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await using (var source = await open(cancellationToken))
            await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    total += read;
                    if (total > expected.Size)
                    {
                        throw new ImageException(ImageErrorKind.DigestMismatch, $"blob {expected.Digest} is larger than its {expected.Size} bytes");
                    }

                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    progress?.Report(read);
                }

                target.Flush(flushToDisk: true);
            }

            var actual = Digests.Sha256Prefix + Convert.ToHexStringLower(hash.GetHashAndReset());
            if (total != expected.Size)
            {
                throw new ImageException(ImageErrorKind.DigestMismatch, $"blob {expected.Digest} has {total} bytes, expected {expected.Size}");
            }

            if (actual != expected.Digest)
            {
                throw new ImageException(ImageErrorKind.DigestMismatch, $"blob has digest {actual}, expected {expected.Digest}");
            }

            File.Move(temp, path, overwrite: true);
            UnpackNative.SyncDirectory(_blobs);
            return path;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
