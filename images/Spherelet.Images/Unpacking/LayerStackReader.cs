using System.Text;

namespace Spherelet.Images.Unpacking;

/// <summary>
/// Reads a file of an image as its container would see it, from the unpacked layers alone
/// (no mount): the topmost layer that has the path wins; a whiteout of the path, or an
/// opaque directory above it, hides what lower layers have. Symlinks and paths that go
/// through them are not followed (the answer is "absent"), so nothing outside the layers is read.
/// </summary>
public static class LayerStackReader
{
    /// <param name="layerDirectories">Unpacked layer directories, bottom first.</param>
    /// <param name="path">An absolute path in the image, such as <c>/etc/passwd</c>.</param>
    /// <param name="maxBytes">Files larger than this are treated as absent.</param>
    /// <returns>The file's text, or null when the image has no such regular file.</returns>
    public static string? ReadText(IReadOnlyList<string> layerDirectories, string path, long maxBytes = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(layerDirectories);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a plain absolute path", nameof(path));
        }

        for (var layer = layerDirectories.Count - 1; layer >= 0; layer--)
        {
            var current = layerDirectories[layer];
            var hidden = false;
            for (var i = 0; i < parts.Length; i++)
            {
                var next = Path.Combine(current, parts[i]);
                if (!UnpackNative.TryLstat(next, out var status))
                {
                    // Absent here: the lower layers count unless an opaque directory on the way hides them.
                    break;
                }

                if (UnpackNative.IsCharacterDevice(status) && UnpackNative.DeviceNumbers(status) == (0u, 0u))
                {
                    return null; // a whiteout hides this path and everything below it
                }

                if (i < parts.Length - 1)
                {
                    if (!UnpackNative.IsDirectory(status))
                    {
                        return null; // a symlink or file where a directory should be
                    }

                    current = next;
                    hidden |= IsOpaque(next);
                    continue;
                }

                if (!UnpackNative.IsRegularFile(status) || new FileInfo(next).Length > maxBytes)
                {
                    return null;
                }

                return File.ReadAllText(next, Encoding.UTF8);
            }

            if (hidden)
            {
                return null;
            }
        }

        return null;
    }

    private static bool IsOpaque(string directory) =>
        UnpackNative.GetXattr(directory, "trusted.overlay.opaque") is [(byte)'y']
        || UnpackNative.GetXattr(directory, "user.overlay.opaque") is [(byte)'y'];
}
