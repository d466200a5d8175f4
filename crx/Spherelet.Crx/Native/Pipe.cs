using Microsoft.Win32.SafeHandles;

namespace Spherelet.Crx.Native;

/// <summary>A pipe whose ends are close-on-exec (spawning dup2s the child's end into place).</summary>
internal sealed unsafe class Pipe : IDisposable
{
    private Pipe(int readFd, int writeFd)
    {
        ReadFd = readFd;
        WriteFd = writeFd;
    }

    public int ReadFd { get; private set; }

    public int WriteFd { get; private set; }

    public static Pipe Create()
    {
        var fds = stackalloc int[2];
        if (Sys.pipe2(fds, Sys.O_CLOEXEC) != 0)
        {
            throw new IOException("pipe2 failed: " + Sys.LastError());
        }

        return new Pipe(fds[0], fds[1]);
    }

    /// <summary>Hands the read end over as a stream (the pipe no longer owns it).</summary>
    public FileStream TakeReader()
    {
        var stream = new FileStream(new SafeFileHandle(ReadFd, ownsHandle: true), FileAccess.Read, 1);
        ReadFd = -1;
        return stream;
    }

    /// <summary>Hands the write end over as a stream (the pipe no longer owns it).</summary>
    public FileStream TakeWriter()
    {
        var stream = new FileStream(new SafeFileHandle(WriteFd, ownsHandle: true), FileAccess.Write, 1);
        WriteFd = -1;
        return stream;
    }

    public void CloseRead()
    {
        if (ReadFd >= 0)
        {
            Sys.close(ReadFd);
            ReadFd = -1;
        }
    }

    public void CloseWrite()
    {
        if (WriteFd >= 0)
        {
            Sys.close(WriteFd);
            WriteFd = -1;
        }
    }

    public void Dispose()
    {
        CloseRead();
        CloseWrite();
    }
}
