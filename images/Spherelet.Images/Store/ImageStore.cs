using System.Collections.Concurrent;
using System.Text.Json;

namespace Spherelet.Images.Store;

/// <summary>
/// Image records, one versioned JSON file each under <c>ROOT/images/HEX.json</c>, written
/// atomically and reloaded at start. Finds images by id, id prefix, repo tag or repo digest.
/// </summary>
public sealed class ImageStore
{
    public const int CurrentVersion = 1;

    private readonly string _directory;
    private readonly ConcurrentDictionary<string, ImageRecord> _images = new(StringComparer.Ordinal);

    public ImageStore(string root)
    {
        _directory = Path.Combine(root, "images");
        Directory.CreateDirectory(_directory);
    }

    public IReadOnlyCollection<ImageRecord> All => (IReadOnlyCollection<ImageRecord>)_images.Values;

    /// <returns>Files that could not be read (left alone).</returns>
    public async Task<IReadOnlyList<string>> LoadAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json"))
        {
            try
            {
                await using var stream = File.OpenRead(file);
                var record = await JsonSerializer.DeserializeAsync(stream, ImageRecordJson.Default.ImageRecordFile, cancellationToken);
                if (record is { Version: CurrentVersion } && Digests.IsValid(record.Image.Id))
                {
                    _images[record.Image.Id] = record.Image;
                }
                else
                {
                    problems.Add($"{file}: not a version {CurrentVersion} image record");
                }
            }
            catch (JsonException e)
            {
                problems.Add($"{file}: {e.Message}");
            }
        }

        return problems;
    }

    public async Task SaveAsync(ImageRecord image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new ImageRecordFile(CurrentVersion, image), ImageRecordJson.Default.ImageRecordFile);
        await AtomicWrite.WriteAsync(Path.Combine(_directory, Digests.Hex(image.Id) + ".json"), bytes, cancellationToken);
        _images[image.Id] = image;
    }

    public void Delete(string id)
    {
        File.Delete(Path.Combine(_directory, Digests.Hex(id) + ".json"));
        _images.TryRemove(id, out _);
    }

    /// <summary>
    /// The image that <paramref name="name"/> names: its id (<c>sha256:HEX</c>, or HEX, or a unique
    /// prefix of HEX of at least 12 digits), a repo tag, or a repo digest (both normalised).
    /// </summary>
    public ImageRecord? Find(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        if (_images.TryGetValue(name, out var byId) || _images.TryGetValue(Digests.Sha256Prefix + name, out byId))
        {
            return byId;
        }

        if (name.Length >= 12 && name.All(char.IsAsciiHexDigitLower))
        {
            var matches = _images.Values.Where(i => i.Id.AsSpan(7).StartsWith(name, StringComparison.Ordinal)).Take(2).ToList();
            if (matches.Count == 1)
            {
                return matches[0];
            }
        }

        string normalized;
        try
        {
            normalized = ImageReference.Parse(name).ToString();
        }
        catch (ImageException)
        {
            return null;
        }

        return _images.Values.FirstOrDefault(i => i.RepoTags.Contains(normalized, StringComparer.Ordinal) || i.RepoDigests.Contains(normalized, StringComparer.Ordinal));
    }
}
