using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace Spherelet.Images.Unpacking;

/// <summary>
/// Unpacks OCI layer blobs into directories that overlayfs can stack: one directory per layer,
/// whiteouts in overlayfs's form. A layer is written into a sibling temporary directory and
/// renamed into place (RENAME_NOREPLACE) only when every entry was written and synced, so the
/// target either holds the whole layer or does not exist. See <see cref="LayerTreeWriter"/>
/// for what is refused and how nothing is ever written through a symlink.
/// </summary>
public sealed partial class LayerUnpacker
{
    private const int LayerRootMode = 0x1ED; // 0755, unless the layer has a "./" entry

    private readonly ILogger<LayerUnpacker> _logger;

    public LayerUnpacker(ILogger<LayerUnpacker> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
    }

    /// <summary>
    /// Unpacks one layer blob (a tar, gzip-compressed, zstd-compressed or uncompressed: detected by the
    /// magic bytes, not by media type) into <paramref name="targetDirectory"/>, which must not exist yet.
    /// Works in a sibling temporary directory (<c>targetDirectory + ".tmp-" + random</c>) and renames it
    /// into place only when every entry was written, so an interrupted or refused layer leaves nothing at
    /// <paramref name="targetDirectory"/> and no temporary directory behind.
    /// </summary>
    /// <param name="layer">The blob; read to its end, not disposed.</param>
    /// <exception cref="ImageException">Invalid: an entry is refused (the message names it and says why), or the blob is not a readable tar.</exception>
    /// <exception cref="IOException"><paramref name="targetDirectory"/> exists, or the file system refused a write.</exception>
    public async Task<LayerUnpackResult> UnpackAsync(Stream layer, string targetDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException("the target cannot be the root directory", nameof(targetDirectory));
        if (UnpackNative.TryLstat(target, out _))
        {
            throw new IOException($"cannot unpack a layer into '{target}': it already exists");
        }

        Directory.CreateDirectory(parent);
        var temporary = $"{target}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        var started = Stopwatch.GetTimestamp();
        UnpackNative.Mkdir(temporary, LayerRootMode);
        try
        {
            UnpackNative.Chmod(temporary, LayerRootMode);
            var writer = new LayerTreeWriter(temporary, changeOwners: UnpackNative.IsRoot);
            await using (var tar = await LayerDecompression.OpenAsync(layer, cancellationToken))
            {
                await WriteEntriesAsync(tar, writer, cancellationToken);
            }

            writer.Complete();
            UnpackNative.SyncFileSystem(temporary);
            UnpackNative.RenameNoReplace(temporary, target);
            UnpackNative.SyncDirectory(parent);

            if (writer.SkippedAttributes > 0)
            {
                LogAttributesSkipped(target, writer.SkippedAttributes);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            LogUnpacked(target, writer.Entries, writer.Bytes, (long)elapsed.TotalMilliseconds);
            return new LayerUnpackResult(writer.Entries, writer.Bytes);
        }
        catch (Exception exception) when (IsUnreadableStream(exception))
        {
            RemoveTemporary(temporary);
            throw new ImageException(ImageErrorKind.Invalid, $"the layer for '{target}' is not a readable tar stream: {exception.Message}", exception);
        }
        catch
        {
            RemoveTemporary(temporary);
            throw;
        }
    }

    private static async Task WriteEntriesAsync(Stream tar, LayerTreeWriter writer, CancellationToken cancellationToken)
    {
        await using (var reader = new TarReader(tar, leaveOpen: true))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteAsync(entry, cancellationToken);
            }
        }

        // Past the end-of-archive blocks: read the rest so the decompressor checks its trailer.
        await tar.CopyToAsync(Stream.Null, cancellationToken);
    }

    private static bool IsUnreadableStream(Exception exception) =>
        exception is InvalidDataException or EndOfStreamException or FormatException or ZstdException;

    /// <summary>Removes the temporary directory, making its directories writable first if a plain removal fails (possible when not root).</summary>
    private void RemoveTemporary(string temporary)
    {
        try
        {
            if (!UnpackNative.TryLstat(temporary, out _))
            {
                return;
            }

            try
            {
                Directory.Delete(temporary, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                MakeDirectoriesWritable(temporary);
                Directory.Delete(temporary, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(temporary, exception);
        }
    }

    private static void MakeDirectoriesWritable(string directory)
    {
        UnpackNative.Chmod(directory, 0x1C0);
        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            if (UnpackNative.TryLstat(child, out var status) && UnpackNative.IsDirectory(status))
            {
                MakeDirectoriesWritable(child);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "layer unpacked target={Target} entries={Entries} bytes={Bytes} elapsed_ms={ElapsedMs}")]
    private partial void LogUnpacked(string target, long entries, long bytes, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "layer xattrs skipped target={Target} count={Count} (unsupported by the file system, binary values, or overlay attributes from the layer)")]
    private partial void LogAttributesSkipped(string target, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "layer temp directory not removed path={Directory}")]
    private partial void LogCleanupFailed(string directory, Exception exception);
}
