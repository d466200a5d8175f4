using System.Net.Sockets;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Server;

namespace Spherelet.Tests.Guest;

/// <summary>
/// The real CRX server behind a Unix socket, as QEMU exposes a pod's virtio-serial channel:
/// one host at a time, and a host that goes away can connect again. It can start listening
/// late (a VM still booting) or accept and never answer (a hung guest).
/// </summary>
internal sealed class GuestChannelServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crx-chan-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private CrxServer? _server;
    private Socket? _listener;
    private Task _loop = Task.CompletedTask;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string SocketPath => Path.Combine(_directory, "crx.sock");

    public int Connections { get; private set; }

    /// <summary>Completes once the socket listens.</summary>
    public Task Listening => _listening.Task;

    /// <summary>Starts listening after <paramref name="delay"/>; with <paramref name="answer"/> false, accepts and stays silent.</summary>
    public void Start(TimeSpan delay, bool answer = true)
    {
        var state = Path.Combine(_directory, "state");
        _server = new CrxServer(
            new Crun("/usr/bin/crun", state), state, new SandboxConfigurator("/bin/busybox", applyToSystem: false),
            Path.Combine(state, "sandbox"), TimeSpan.FromMilliseconds(42), _ => Task.CompletedTask);
        _loop = Task.Run(async () =>
        {
            await Task.Delay(delay, _stop.Token);
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            _listener.Listen();
            _listening.TrySetResult();
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                lock (_accepted)
                {
                    _accepted.Add(socket);
                    Connections++;
                }

                if (!answer)
                {
                    continue;
                }

                using var stream = new NetworkStream(socket, ownsSocket: true);
                try
                {
                    await _server.ServeAsync(stream, stream, waitForHost: false, _stop.Token);
                }
                catch (IOException)
                {
                    // The connection was dropped: wait for the next host.
                }
            }
        });
    }

    /// <summary>Breaks every accepted connection, as a guest that goes away does.</summary>
    public void DropConnections()
    {
        lock (_accepted)
        {
            foreach (var socket in _accepted)
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }

                socket.Dispose();
            }

            _accepted.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        DropConnections();
        _listener?.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }

        _server?.Dispose();
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
