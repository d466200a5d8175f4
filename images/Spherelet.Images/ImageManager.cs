using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spherelet.Images.Registry;
using Spherelet.Images.Store;
using Spherelet.Images.Unpacking;

namespace Spherelet.Images;

/// <summary>
/// The node's images: pull (resolve, fetch and verify every blob, unpack each layer once),
/// find, list, remove (untag or delete) and collect the blobs and layers no image uses.
/// Layers live in <c>ROOT/layers/sha256/HEX</c> (HEX of the compressed blob), shared by
/// every image and pod that uses them.
/// </summary>
public sealed partial class ImageManager : IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    private readonly string _root;
    private readonly string _layers;
    private readonly RegistryClient _registry;
    private readonly LayerUnpacker _unpacker;
    private readonly ContentStore _content;
    private readonly ImageStore _images;
    private readonly IImageUsage? _usage;
    private readonly TimeProvider _time;
    private readonly ILogger<ImageManager> _logger;
    private readonly IImagePullMeter? _meter;
    private readonly ConcurrentDictionary<string, Lazy<Task<ImageRecord>>> _pulls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _unpacks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _pinned = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _metadata = new(1, 1);

    public ImageManager(
        string root, RegistryClient registry, LayerUnpacker unpacker, IImageUsage? usage, TimeProvider time, ILogger<ImageManager> logger, IImagePullMeter? meter = null)
    {
        _meter = meter;
        _root = root;
        _layers = Path.Combine(root, "layers", "sha256");
        Directory.CreateDirectory(_layers);
        _registry = registry;
        _unpacker = unpacker;
        _content = new ContentStore(root);
        _images = new ImageStore(root);
        _usage = usage;
        _time = time;
        _logger = logger;
    }

    public string Root => _root;

    public void Dispose() => _metadata.Dispose();

    /// <summary>Reloads the image records kept on disk.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var problem in await _images.LoadAsync(cancellationToken))
        {
            LogRecordProblem(problem);
        }

        LogLoaded(_images.All.Count);
    }

    /// <summary>The unpacked directory of a layer (for container root file systems).</summary>
    public string LayerDirectory(string layerDigest) => Path.Combine(_layers, Digests.Hex(layerDigest));

    public ImageRecord? Find(string name) => _images.Find(name);

    /// <summary>Every image, or those that <paramref name="name"/> names.</summary>
    public IReadOnlyList<ImageRecord> List(string? name) =>
        string.IsNullOrEmpty(name)
            ? _images.All.OrderBy(i => i.PulledAt).ToList()
            : _images.Find(name) is { } found ? [found] : [];

    /// <summary>Pulls an image; concurrent pulls of one reference share the work.</summary>
    /// <returns>The stored image.</returns>
    public Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        var parsed = ImageReference.Parse(reference);
        var key = parsed.ToString();
        var shared = _pulls.GetOrAdd(key, _ => new Lazy<Task<ImageRecord>>(() => PullCoreAsync(parsed, credentials, CancellationToken.None)));
        return AwaitPullAsync(key, shared, cancellationToken);
    }

    /// <summary>
    /// Removes what <paramref name="name"/> names: a tag shared with other tags only untags;
    /// the last name, an id or a digest deletes the image. Unknown names succeed (idempotent).
    /// </summary>
    /// <exception cref="ImageException">InUse: a container uses the image.</exception>
    public async Task RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await _metadata.WaitAsync(cancellationToken);
        try
        {
            if (_images.Find(name) is not { } image)
            {
                return;
            }

            string? tag = null;
            try
            {
                var parsed = ImageReference.Parse(name);
                tag = parsed.Digest is null ? parsed.ToString() : null;
            }
            catch (ImageException)
            {
            }

            if (tag is not null && image.RepoTags.Contains(tag, StringComparer.Ordinal) && image.RepoTags.Count > 1)
            {
                await _images.SaveAsync(image with { RepoTags = image.RepoTags.Where(t => t != tag).ToList() }, cancellationToken);
                LogUntagged(tag, image.Id);
                return;
            }

            if (_usage?.FindUser(image.Id) is { } user)
            {
                throw new ImageException(ImageErrorKind.InUse, $"image {image.Id} ({string.Join(", ", image.RepoTags)}) is used by {user}");
            }

            _images.Delete(image.Id);
            var tags = string.Join(",", image.RepoTags);
            LogRemoved(image.Id, tags);
        }
        finally
        {
            _metadata.Release();
        }

        await CollectGarbageAsync(cancellationToken);
    }

    /// <summary>Deletes the blobs and unpacked layers that no image references (and no pull is fetching).</summary>
    /// <returns>How many blobs and layers were deleted.</returns>
    public async Task<(int Blobs, int Layers)> CollectGarbageAsync(CancellationToken cancellationToken)
    {
        await _metadata.WaitAsync(cancellationToken);
        try
        {
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var image in _images.All)
            {
                used.Add(image.Id);
                used.Add(image.ManifestDigest);
                used.UnionWith(image.Layers.Select(l => l.Digest));
            }

            used.UnionWith(_pinned.Keys);
            var blobs = 0;
            foreach (var digest in _content.AllDigests().Where(d => !used.Contains(d)).ToList())
            {
                _content.Delete(digest);
                blobs++;
            }

            var layers = 0;
            foreach (var directory in Directory.EnumerateDirectories(_layers))
            {
                var digest = Digests.Sha256Prefix + Path.GetFileName(directory);
                if (Digests.IsValid(digest) && !used.Contains(digest))
                {
                    Directory.Delete(directory, recursive: true);
                    layers++;
                }
            }

            if (blobs + layers > 0)
            {
                LogCollected(blobs, layers);
            }

            return (blobs, layers);
        }
        finally
        {
            _metadata.Release();
        }
    }

    /// <summary>What the store holds on disk: bytes and inodes under its root.</summary>
    public ImageFsUsage Usage()
    {
        ulong bytes = 0;
        ulong inodes = 0;
        foreach (var entry in new DirectoryInfo(_root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }))
        {
            inodes++;
            if (entry is FileInfo { LinkTarget: null } file)
            {
                bytes += (ulong)file.Length;
            }
        }

        return new ImageFsUsage(_root, bytes, inodes, (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100);
    }

    private async Task<ImageRecord> AwaitPullAsync(string key, Lazy<Task<ImageRecord>> shared, CancellationToken cancellationToken)
    {
        try
        {
            return await shared.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (shared.Value.IsCompleted)
            {
                _pulls.TryRemove(new KeyValuePair<string, Lazy<Task<ImageRecord>>>(key, shared));
            }
        }
    }

    private async Task<ImageRecord> PullCoreAsync(ImageReference reference, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var name = reference.ToString();
        PullProgress? progress = null;
        LogPullStarted(name);
        try
        {
            var record = await FetchAndStoreAsync(reference, name, credentials, started, p => progress = p, cancellationToken);
            _meter?.Pulled(Stopwatch.GetElapsedTime(started), progress?.Bytes ?? 0);
            return record;
        }
        catch (Exception e)
        {
            _meter?.Failed(Stopwatch.GetElapsedTime(started), progress?.Bytes ?? 0, FailureReason(e));
            throw;
        }
    }

    /// <summary>The failure reason label of a pull: the image error's kind (not_found, unauthorized...), io, canceled or other.</summary>
    public static string FailureReason(Exception error) => error switch
    {
        ImageException image => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(image.Kind.ToString()),
        OperationCanceledException => "canceled",
        IOException or UnauthorizedAccessException => "io",
        _ => "other",
    };

    private async Task<ImageRecord> FetchAndStoreAsync(
        ImageReference reference, string name, RegistryCredentials? credentials, long started, Action<PullProgress> tracked, CancellationToken cancellationToken)
    {
        var manifest = await _registry.ResolveAsync(reference, credentials, cancellationToken);
        var digests = manifest.Layers.Select(l => l.Digest).Append(manifest.Config.Digest).Append(manifest.ManifestDigest).ToList();
        Pin(digests);
        try
        {
            await _content.PutAsync(manifest.ManifestDigest, manifest.ManifestBytes, cancellationToken);
            await _content.EnsureAsync(manifest.Config, ct => _registry.OpenBlobAsync(reference, manifest.Config, credentials, ct), null, cancellationToken);
            var config = ImageConfigInfo.Parse(await _content.ReadAllAsync(manifest.Config.Digest, cancellationToken));
            var total = manifest.Layers.Sum(l => l.Size);
            var progress = new PullProgress(total);
            tracked(progress);
            var layerCount = manifest.Layers.Count;
            using var ticker = new Timer(_ => ReportProgress(name, progress, layerCount, started), null, ProgressInterval, ProgressInterval);
            await Task.WhenAll(manifest.Layers.Select(async layer =>
            {
                await _content.EnsureAsync(layer, ct => _registry.OpenBlobAsync(reference, layer, credentials, ct), progress, cancellationToken);
                await UnpackOnceAsync(layer, cancellationToken);
                progress.LayerDone();
            }));

            ImageRecord record;
            await _metadata.WaitAsync(cancellationToken);
            try
            {
                var existing = _images.Find(manifest.Config.Digest);
                var repoDigest = reference.RepoDigest(manifest.IndexDigest ?? manifest.ManifestDigest);
                record = new ImageRecord
                {
                    Id = manifest.Config.Digest,
                    RepoTags = Merge(existing?.RepoTags, reference.Tag is null ? null : reference.RepoTag),
                    RepoDigests = Merge(existing?.RepoDigests, repoDigest),
                    ManifestDigest = manifest.ManifestDigest,
                    Layers = manifest.Layers,
                    Size = total + manifest.Config.Size,
                    Config = config,
                    PulledAt = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100,
                };

                // A tag names one image: moving it here takes it off the image that had it.
                if (reference.Tag is not null)
                {
                    foreach (var other in _images.All.Where(i => i.Id != record.Id && i.RepoTags.Contains(reference.RepoTag, StringComparer.Ordinal)).ToList())
                    {
                        await _images.SaveAsync(other with { RepoTags = other.RepoTags.Where(t => t != reference.RepoTag).ToList() }, cancellationToken);
                    }
                }

                await _images.SaveAsync(record, cancellationToken);
            }
            finally
            {
                _metadata.Release();
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var elapsedMs = (long)elapsed.TotalMilliseconds;
            var rate = progress.MiBPerSecond(elapsed);
            LogPulled(name, record.Id, layerCount, total, elapsedMs, rate);
            return record;
        }
        catch
        {
            // What a failed pull stored is nobody's: the store goes back to how it was.
            Unpin(digests);
            digests.Clear();
            await CollectGarbageAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            Unpin(digests);
        }
    }

    private Task UnpackOnceAsync(Descriptor layer, CancellationToken cancellationToken)
    {
        var target = LayerDirectory(layer.Digest);
        if (Directory.Exists(target))
        {
            return Task.CompletedTask;
        }

        var shared = _unpacks.GetOrAdd(layer.Digest, _ => new Lazy<Task>(async () =>
        {
            try
            {
                if (!Directory.Exists(target))
                {
                    await using var blob = _content.OpenRead(layer.Digest);
                    await _unpacker.UnpackAsync(blob, target, cancellationToken);
                }
            }
            finally
            {
                _unpacks.TryRemove(layer.Digest, out Lazy<Task>? _);
            }
        }));
        return shared.Value;
    }

    private void ReportProgress(string name, PullProgress progress, int layers, long started)
    {
        var rate = progress.MiBPerSecond(Stopwatch.GetElapsedTime(started));
        LogPullProgress(name, progress.Bytes, progress.TotalBytes, progress.LayersDone, layers, rate);
    }

    private void Pin(IEnumerable<string> digests)
    {
        foreach (var digest in digests)
        {
            _pinned.AddOrUpdate(digest, 1, (_, n) => n + 1);
        }
    }

    private void Unpin(IEnumerable<string> digests)
    {
        foreach (var digest in digests)
        {
            if (_pinned.AddOrUpdate(digest, 0, (_, n) => n - 1) <= 0)
            {
                _pinned.TryRemove(new KeyValuePair<string, int>(digest, 0));
            }
        }
    }

    private static List<string> Merge(IReadOnlyList<string>? existing, string? added)
    {
        var merged = new List<string>(existing ?? []);
        if (!string.IsNullOrEmpty(added) && !merged.Contains(added, StringComparer.Ordinal))
        {
            merged.Add(added);
        }

        return merged;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "images loaded count={Count}")]
    private partial void LogLoaded(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "image record skipped: {Problem}")]
    private partial void LogRecordProblem(string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "pull started image={Reference}")]
    private partial void LogPullStarted(string reference);

    [LoggerMessage(Level = LogLevel.Information, Message = "pull progress image={Reference} bytes={Bytes}/{Total} layers={LayersDone}/{Layers} mib_per_s={Rate:0.0}")]
    private partial void LogPullProgress(string reference, long bytes, long total, int layersDone, int layers, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "pulled image={Reference} id={Id} layers={Layers} bytes={Bytes} elapsed_ms={ElapsedMs} mib_per_s={Rate:0.0}")]
    private partial void LogPulled(string reference, string id, int layers, long bytes, long elapsedMs, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "image untagged tag={Tag} id={Id}")]
    private partial void LogUntagged(string tag, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "image removed id={Id} tags={Tags}")]
    private partial void LogRemoved(string id, string tags);

    [LoggerMessage(Level = LogLevel.Information, Message = "image garbage collected blobs={Blobs} layers={Layers}")]
    private partial void LogCollected(int blobs, int layers);
}
