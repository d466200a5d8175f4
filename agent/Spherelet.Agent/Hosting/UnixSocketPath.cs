using System.Net.Sockets;
using System.Text;
using Tmds.Linux;

namespace Spherelet.Agent.Hosting;

/// <summary>Readies the path of the CRI socket before Kestrel binds it.</summary>
public static class UnixSocketPath
{
    /// <summary>
    /// Creates the parent directory (mode 0750 when new) and removes a stale socket left by
    /// an agent that died. A socket that still answers belongs to a running agent and is
    /// left alone; a file that is not a socket is never removed.
    /// </summary>
    /// <exception cref="IOException">The path is in use or is not a socket.</exception>
    public static void Prepare(string path)
    {
        var directory = Path.GetDirectoryName(path) ?? "/";
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }

        switch (Kind(path))
        {
            case PathKind.Missing:
                return;
            case PathKind.Other:
                throw new IOException($"{path} exists and is not a socket; remove it or choose another --socket");
            case PathKind.Socket when Answers(path):
                throw new IOException($"{path} is in use: another process (another spherelet?) answers on it");
            default:
                File.Delete(path);
                return;
        }
    }

    private enum PathKind
    {
        Missing,
        Socket,
        Other,
    }

    private static unsafe PathKind Kind(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.lstat(p, &st) < 0)
            {
                return PathKind.Missing;
            }
        }

        return (st.st_mode & LibC.S_IFMT) == LibC.S_IFSOCK ? PathKind.Socket : PathKind.Other;
    }

    private static bool Answers(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
