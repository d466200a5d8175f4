using System.Net.Sockets;

namespace Spherelet.Crx.Native;

/// <summary>
/// The receiving end of crun's <c>--console-socket</c>: a Unix socket on which crun sends
/// the pseudo-terminal master of a container or exec process (SCM_RIGHTS), once.
/// </summary>
internal sealed class ConsoleSocket : IDisposable
{
    private readonly Socket _listener;

    private ConsoleSocket(string path, Socket listener)
    {
        Path = path;
        _listener = listener;
    }

    public string Path { get; }

    public static ConsoleSocket Listen(string path)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return new ConsoleSocket(path, listener);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Accepts crun's connection and returns the terminal master it sends (close-on-exec).</summary>
    /// <exception cref="IOException">The peer sent no file descriptor.</exception>
    public async Task<int> ReceiveAsync(CancellationToken cancellationToken)
    {
        using var connection = await _listener.AcceptAsync(cancellationToken);
        // crun sends the fd right after connecting; the read below is short and blocking.
        return await Task.Run(() => ReceiveFd(connection), cancellationToken);
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(Path);
    }

    private static unsafe int ReceiveFd(Socket connection)
    {
        var data = stackalloc byte[256];
        const int controlSize = 64;
        var control = stackalloc byte[controlSize];
        var iov = new IoVec { Base = data, Length = 256 };
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = controlSize };
        nint received;
        do
        {
            received = Sys.recvmsg(connection.Handle, &message, Sys.MSG_CMSG_CLOEXEC);
        }
        while (received < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Sys.EINTR);

        if (received < 0)
        {
            throw new IOException("recvmsg on the console socket failed: " + Sys.LastError());
        }

        // struct cmsghdr: size_t len; int level; int type; then the data (aligned to 8).
        var offset = 0;
        while (offset + 16 <= (int)message.ControlLength)
        {
            var length = (int)*(nuint*)(control + offset);
            var level = *(int*)(control + offset + 8);
            var type = *(int*)(control + offset + 12);
            if (length < 16)
            {
                break;
            }

            if (level == Sys.SOL_SOCKET && type == Sys.SCM_RIGHTS && length >= 20)
            {
                var fd = *(int*)(control + offset + 16);
                // Any further descriptors in the same message are not ours to keep.
                for (var extra = 20; extra + 4 <= length; extra += 4)
                {
                    Sys.close(*(int*)(control + offset + extra));
                }

                return fd;
            }

            offset += (length + 7) & ~7;
        }

        throw new IOException("crun sent no terminal on the console socket");
    }
}
