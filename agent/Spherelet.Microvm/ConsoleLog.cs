using System.Net.Sockets;

namespace Spherelet.Microvm;

/// <summary>
/// A VM's serial console, copied by the agent from QEMU's console socket into the pod's console log,
/// rotated at <see cref="MaxFileBytes"/> with <see cref="Backups"/> older files kept (as virtlogd does for
/// libvirt's domains): a guest that floods its console costs the host a few files, never the disk.
/// QEMU itself cannot write the host's file system; while no agent listens, what the guest writes is dropped.
/// </summary>
internal sealed class ConsoleLog : IAsyncDisposable
{
    public const long MaxFileBytes = 2 * 1024 * 1024;
    public const int Backups = 2;

    private readonly Socket _socket;
    private readonly string _path;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _copying;

    private ConsoleLog(Socket socket, string path)
    {
        _socket = socket;
        _path = path;
        _copying = Task.Run(CopyAsync);
    }

    /// <summary>Connects to the console socket and copies from it until QEMU closes it or this is disposed.</summary>
    /// <exception cref="SocketException">No console socket answers there.</exception>
    public static async Task<ConsoleLog> StartAsync(string socketPath, string logPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new ConsoleLog(socket, logPath);
    }

    private async Task CopyAsync()
    {
        var buffer = new byte[64 * 1024];
        FileStream? file = null;
        try
        {
            file = Open();
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    return;
                }

                var offset = 0;
                while (offset < read)
                {
                    if (file.Length >= MaxFileBytes)
                    {
                        await file.DisposeAsync();
                        Rotate();
                        file = Open();
                    }

                    var count = (int)Math.Min(read - offset, MaxFileBytes - file.Length);
                    await file.WriteAsync(buffer.AsMemory(offset, count), _stopping.Token);
                    offset += count;
                }

                await file.FlushAsync(_stopping.Token);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // The pod directory went away, or the agent stops: the console is not the pod's life.
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
        }
    }

    private FileStream Open()
    {
        var file = new FileStream(_path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            Options = FileOptions.None,
        });
        return file;
    }

    /// <summary>console.log becomes console.log.1, which becomes .2; the oldest goes.</summary>
    private void Rotate()
    {
        for (var i = Backups; i >= 1; i--)
        {
            var from = i == 1 ? _path : $"{_path}.{i - 1}";
            if (File.Exists(from))
            {
                File.Move(from, $"{_path}.{i}", overwrite: true);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Dispose();
        await _copying;
        _stopping.Dispose();
    }
}
