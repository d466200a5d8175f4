using System.Formats.Tar;
using System.Globalization;
using System.Text;

namespace Spherelet.Images.Unpacking;

/// <summary>
/// Writes the entries of one layer, in tar order, under a directory that only this writer
/// touches. Every name is checked before anything is created: it must be relative, free of
/// <c>..</c>, and every parent must be a real directory of this layer (checked with lstat, a
/// symlink parent is refused). Nothing is ever created or replaced through a symlink: an
/// existing node is unlinked (a directory removed without following the links inside it)
/// before a new one is created, and files are created with O_CREAT|O_EXCL.
/// Whiteouts become overlayfs whiteouts (a 0:0 character device; an opaque directory gets
/// <c>trusted.overlay.opaque=y</c>) and never remove anything of this layer.
/// Metadata order per node: content, owner, mode (after the owner, which clears setuid),
/// xattrs, times. Directory modes and times are set last, deepest first, by <see cref="Complete"/>.
/// </summary>
internal sealed class LayerTreeWriter
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetadataPrefix = ".wh..wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string OpaqueAttribute = "trusted.overlay.opaque";
    private const string UserOpaqueAttribute = "user.overlay.opaque";
    private const string OverlayAttributePrefix = "trusted.overlay.";
    private const string UserOverlayAttributePrefix = "user.overlay.";
    private const string SchilyXattrPrefix = "SCHILY.xattr.";
    private const string LibarchiveXattrPrefix = "LIBARCHIVE.xattr.";
    private const int DefaultDirectoryMode = 0x1ED; // 0755
    private const int WritableDirectoryMode = 0x1C0; // 0700, until the entry's own mode is set at the end
    private const int WritableFileMode = 0x180; // 0600, until the entry's own mode is set after the content

    private readonly string _root;
    private readonly bool _changeOwners;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "" };
    private readonly Dictionary<string, (int Mode, DateTimeOffset Accessed, DateTimeOffset Modified)> _directoryMetadata = new(StringComparer.Ordinal);

    /// <param name="root">An existing, empty directory.</param>
    /// <param name="changeOwners">Whether to lchown to the entries' owners (only root can).</param>
    public LayerTreeWriter(string root, bool changeOwners)
    {
        _root = root;
        _changeOwners = changeOwners;
    }

    /// <summary>Entries written: files, directories, links, devices, whiteouts and opaque markers.</summary>
    public long Entries { get; private set; }

    /// <summary>Bytes of regular-file content written.</summary>
    public long Bytes { get; private set; }

    /// <summary>Extended attributes not set: unsupported by the file system, not valid UTF-8 in the tar, or <c>trusted.overlay.*</c> / <c>user.overlay.*</c> from the layer itself.</summary>
    public int SkippedAttributes { get; private set; }

    /// <exception cref="ImageException">Invalid: the entry is refused; the message names it and says why.</exception>
    public async Task WriteAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        var name = entry.Name;
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
        {
            return;
        }

        if (!LayerPath.TryNormalize(name, out var relative, out var reason))
        {
            throw Refused(name, reason);
        }

        var fileName = LayerPath.FileName(relative);
        if (fileName.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            WriteWhiteout(entry, relative, fileName);
            return;
        }

        if (relative.Length == 0)
        {
            if (entry.EntryType != TarEntryType.Directory)
            {
                throw Refused(name, $"a {entry.EntryType} entry cannot name the layer root");
            }

            ApplyDirectoryMetadata(entry, relative);
            Entries++;
            return;
        }

        EnsureDirectories(name, LayerPath.Parent(relative));
        var path = FullPath(relative);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                WriteDirectory(entry, relative, path);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                await WriteFileAsync(entry, relative, path, cancellationToken);
                break;
            case TarEntryType.SymbolicLink:
                WriteSymlink(entry, relative, path);
                break;
            case TarEntryType.HardLink:
                WriteHardLink(entry, relative, path);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                WriteNode(entry, relative, path);
                break;
            default:
                throw Refused(name, $"entries of type {entry.EntryType} are not supported");
        }

        Entries++;
    }

    /// <summary>Sets the directories' own modes and times, deepest first, now that nothing more is written into them.</summary>
    public void Complete()
    {
        foreach (var (relative, metadata) in _directoryMetadata.OrderByDescending(pair => pair.Key.Length == 0 ? -1 : pair.Key.Count(c => c == '/')))
        {
            var path = FullPath(relative);
            if (!UnpackNative.TryLstat(path, out var status) || !UnpackNative.IsDirectory(status))
            {
                continue;
            }

            UnpackNative.Chmod(path, metadata.Mode);
            UnpackNative.SetTimes(path, metadata.Accessed, metadata.Modified);
        }
    }

    private void WriteDirectory(TarEntry entry, string relative, string path)
    {
        if (UnpackNative.TryLstat(path, out var existing))
        {
            if (!UnpackNative.IsDirectory(existing))
            {
                Remove(relative, path, existing);
                UnpackNative.Mkdir(path, WritableDirectoryMode);
            }
        }
        else
        {
            UnpackNative.Mkdir(path, WritableDirectoryMode);
        }

        _directories.Add(relative);
        ApplyDirectoryMetadata(entry, relative);
    }

    private void ApplyDirectoryMetadata(TarEntry entry, string relative)
    {
        var path = FullPath(relative);
        ChangeOwner(entry, path);
        SetAttributes(entry, path);
        _directoryMetadata[relative] = (Mode(entry), AccessTime(entry), entry.ModificationTime);
    }

    private async Task WriteFileAsync(TarEntry entry, string relative, string path, CancellationToken cancellationToken)
    {
        RemoveIfPresent(relative, path);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, // O_CREAT|O_EXCL: never opens what a symlink points to
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            UnixCreateMode = (UnixFileMode)WritableFileMode,
        };
        await using (var file = new FileStream(path, options))
        {
            if (entry.DataStream is { } data)
            {
                await data.CopyToAsync(file, cancellationToken);
            }

            Bytes += file.Position;
        }

        ChangeOwner(entry, path);
        UnpackNative.Chmod(path, Mode(entry));
        SetAttributes(entry, path);
        SetTimes(entry, path);
    }

    private void WriteSymlink(TarEntry entry, string relative, string path)
    {
        var target = entry.LinkName;
        if (string.IsNullOrEmpty(target))
        {
            throw Refused(entry.Name, "the symlink has no target");
        }

        if (target.Contains('\0', StringComparison.Ordinal))
        {
            throw Refused(entry.Name, "the symlink target contains a NUL byte");
        }

        RemoveIfPresent(relative, path);
        UnpackNative.Symlink(target, path);
        ChangeOwner(entry, path);
        SetAttributes(entry, path);
        SetTimes(entry, path);
    }

    private void WriteHardLink(TarEntry entry, string relative, string path)
    {
        var name = entry.Name;
        var linkName = entry.LinkName;
        if (!LayerPath.TryNormalize(linkName, out var target, out var reason))
        {
            throw Refused(name, $"hard link target '{linkName}': {reason}");
        }

        if (target.Length == 0)
        {
            throw Refused(name, "a hard link cannot point to the layer root");
        }

        var parent = LayerPath.Parent(target);
        var checkedPath = "";
        foreach (var component in parent.Length == 0 ? [] : parent.Split('/'))
        {
            checkedPath = LayerPath.Combine(checkedPath, component);
            if (_directories.Contains(checkedPath))
            {
                continue;
            }

            if (!UnpackNative.TryLstat(FullPath(checkedPath), out var status))
            {
                throw Refused(name, $"hard link target '{linkName}' does not exist in the layer");
            }

            if (UnpackNative.IsSymlink(status))
            {
                throw Refused(name, $"hard link target '{linkName}' goes through the symlink '{checkedPath}'");
            }

            if (!UnpackNative.IsDirectory(status))
            {
                throw Refused(name, $"hard link target '{linkName}' goes through '{checkedPath}', which is not a directory");
            }
        }

        var targetPath = FullPath(target);
        if (!UnpackNative.TryLstat(targetPath, out var targetStatus))
        {
            throw Refused(name, $"hard link target '{linkName}' does not exist in the layer");
        }

        if (UnpackNative.IsDirectory(targetStatus))
        {
            throw Refused(name, $"hard link target '{linkName}' is a directory");
        }

        if (target == relative)
        {
            return;
        }

        if (target.StartsWith(relative + "/", StringComparison.Ordinal))
        {
            throw Refused(name, $"hard link target '{linkName}' is inside the directory the link would replace");
        }

        RemoveIfPresent(relative, path);
        UnpackNative.Link(targetPath, path);
    }

    private void WriteNode(TarEntry entry, string relative, string path)
    {
        var (type, major, minor) = entry.EntryType switch
        {
            TarEntryType.CharacterDevice => (UnpackNative.CharacterDeviceType, DeviceMajor(entry), DeviceMinor(entry)),
            TarEntryType.BlockDevice => (UnpackNative.BlockDeviceType, DeviceMajor(entry), DeviceMinor(entry)),
            _ => (UnpackNative.FifoType, 0u, 0u),
        };
        RemoveIfPresent(relative, path);
        UnpackNative.Mknod(path, type | WritableFileMode, major, minor);
        ChangeOwner(entry, path);
        UnpackNative.Chmod(path, Mode(entry));
        SetAttributes(entry, path);
        SetTimes(entry, path);
    }

    private void WriteWhiteout(TarEntry entry, string relative, string fileName)
    {
        var name = entry.Name;
        var parent = LayerPath.Parent(relative);
        if (fileName == OpaqueMarker)
        {
            EnsureDirectories(name, parent);
            var directory = FullPath(parent);
            if (!UnpackNative.TrySetXattr(directory, OpaqueAttribute, "y"u8))
            {
                throw new IOException($"cannot mark '{directory}' opaque: the file system does not support trusted.* extended attributes");
            }

            // Also in the user namespace: an overlay mounted with userxattr (a pod VM's, over 9p) reads that one.
            UnpackNative.TrySetXattr(directory, UserOpaqueAttribute, "y"u8);

            Entries++;
            return;
        }

        if (fileName.StartsWith(WhiteoutMetadataPrefix, StringComparison.Ordinal))
        {
            // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the file system.
            return;
        }

        var hidden = fileName[WhiteoutPrefix.Length..];
        if (hidden is "" or "." or "..")
        {
            throw Refused(name, "the whiteout names no file");
        }

        EnsureDirectories(name, parent);
        var path = FullPath(LayerPath.Combine(parent, hidden));
        if (UnpackNative.TryLstat(path, out _))
        {
            // A whiteout hides only lower layers; what this layer has under that name stays.
            return;
        }

        UnpackNative.Mknod(path, UnpackNative.CharacterDeviceType, 0, 0);
        ChangeOwner(entry, path);
        SetTimes(entry, path);
        Entries++;
    }

    /// <summary>Makes sure every component of <paramref name="relative"/> is a real directory of this layer, creating missing ones (0755).</summary>
    private void EnsureDirectories(string name, string relative)
    {
        if (_directories.Contains(relative))
        {
            return;
        }

        var current = "";
        foreach (var component in relative.Split('/'))
        {
            current = LayerPath.Combine(current, component);
            if (_directories.Contains(current))
            {
                continue;
            }

            var path = FullPath(current);
            if (UnpackNative.TryLstat(path, out var status))
            {
                if (UnpackNative.IsSymlink(status))
                {
                    throw Refused(name, $"its parent '{current}' is a symlink");
                }

                if (!UnpackNative.IsDirectory(status))
                {
                    throw Refused(name, $"its parent '{current}' is not a directory");
                }
            }
            else
            {
                UnpackNative.Mkdir(path, DefaultDirectoryMode);
                UnpackNative.Chmod(path, DefaultDirectoryMode);
            }

            _directories.Add(current);
        }
    }

    private void RemoveIfPresent(string relative, string path)
    {
        if (UnpackNative.TryLstat(path, out var existing))
        {
            Remove(relative, path, existing);
        }
    }

    /// <summary>Removes what an earlier entry put at <paramref name="path"/>: unlinks a file or symlink, removes a directory tree without following symlinks in it.</summary>
    private void Remove(string relative, string path, in Tmds.Linux.stat existing)
    {
        if (!UnpackNative.IsDirectory(existing))
        {
            File.Delete(path);
            return;
        }

        Directory.Delete(path, recursive: true);
        var prefix = relative + "/";
        _directories.RemoveWhere(d => d == relative || d.StartsWith(prefix, StringComparison.Ordinal));
        foreach (var key in _directoryMetadata.Keys.Where(d => d == relative || d.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            _directoryMetadata.Remove(key);
        }
    }

    private void ChangeOwner(TarEntry entry, string path)
    {
        if (_changeOwners)
        {
            UnpackNative.Lchown(path, entry.Uid, entry.Gid);
        }
    }

    private void SetAttributes(TarEntry entry, string path)
    {
        if (entry is not PaxTarEntry pax)
        {
            return;
        }

        foreach (var (key, value) in pax.ExtendedAttributes)
        {
            string attribute;
            byte[] bytes;
            if (key.StartsWith(SchilyXattrPrefix, StringComparison.Ordinal))
            {
                attribute = key[SchilyXattrPrefix.Length..];
                if (value.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    // The tar reader decodes PAX values as UTF-8; a binary value is lost and must not be set half-right.
                    SkippedAttributes++;
                    continue;
                }

                bytes = Encoding.UTF8.GetBytes(value);
            }
            else if (key.StartsWith(LibarchiveXattrPrefix, StringComparison.Ordinal))
            {
                attribute = Uri.UnescapeDataString(key[LibarchiveXattrPrefix.Length..]);
                bytes = DecodeBase64(entry.Name, attribute, value);
            }
            else
            {
                continue;
            }

            if (attribute.Length == 0 || attribute.Contains('\0', StringComparison.Ordinal))
            {
                throw Refused(entry.Name, "an extended attribute has an empty name or a NUL byte in its name");
            }

            // overlayfs's own attributes come from whiteouts only: a layer may not forge them.
            if (attribute.StartsWith(OverlayAttributePrefix, StringComparison.Ordinal)
                || attribute.StartsWith(UserOverlayAttributePrefix, StringComparison.Ordinal)
                || !UnpackNative.TrySetXattr(path, attribute, bytes))
            {
                SkippedAttributes++;
            }
        }
    }

    private static byte[] DecodeBase64(string name, string attribute, string value)
    {
        var padded = value.Trim();
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            throw Refused(name, $"the value of extended attribute '{attribute}' is not base64");
        }
    }

    private static void SetTimes(TarEntry entry, string path) =>
        UnpackNative.SetTimes(path, AccessTime(entry), entry.ModificationTime);

    private static DateTimeOffset AccessTime(TarEntry entry)
    {
        switch (entry)
        {
            case PaxTarEntry pax when pax.ExtendedAttributes.TryGetValue("atime", out var text)
                && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                && Math.Abs(seconds) < 100_000_000_000m:
                return DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
            case GnuTarEntry gnu when gnu.AccessTime > DateTimeOffset.UnixEpoch:
                return gnu.AccessTime;
            default:
                return entry.ModificationTime;
        }
    }

    private static int Mode(TarEntry entry) => (int)entry.Mode & 0xFFF;

    private static uint DeviceMajor(TarEntry entry) => entry is PosixTarEntry posix ? (uint)posix.DeviceMajor : 0;

    private static uint DeviceMinor(TarEntry entry) => entry is PosixTarEntry posix ? (uint)posix.DeviceMinor : 0;

    private string FullPath(string relative) => relative.Length == 0 ? _root : _root + "/" + relative;

    private static ImageException Refused(string? name, string reason) =>
        new(ImageErrorKind.Invalid, $"layer entry '{name?.Replace("\0", "\\0", StringComparison.Ordinal)}': {reason}");
}
