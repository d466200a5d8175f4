namespace Spherelet.Domain.Containers;

/// <summary>
/// The CRI log files on the host, in the kubelet's pod log directory (never visible to a pod VM).
/// A path is always taken below the directory, never through a link.
/// </summary>
public interface IHostLogFiles
{
    /// <summary>Opens the file for appending, creating it (mode 0640) and missing directories below <paramref name="logDirectory"/>.</summary>
    /// <exception cref="IOException">It cannot be opened (a link, outside the directory, no room).</exception>
    Stream OpenAppend(string logDirectory, string relativePath);

    /// <summary>Up to the last <paramref name="maxBytes"/> bytes of the file; empty when there is none.</summary>
    byte[] ReadTail(string logDirectory, string relativePath, int maxBytes);
}
