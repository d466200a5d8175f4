using Microsoft.Extensions.Hosting;
using Spherelet.Agent.Options;

namespace Spherelet.Agent.Hosting;

/// <summary>
/// Gives the CRI socket mode 0660 once Kestrel has bound it, before the host reports
/// that it started (and so before systemd hears READY=1). Until then the socket has the
/// mode bind() gave it under the process umask (0755 with the usual 022): without write
/// permission nobody but its owner can connect in between.
/// </summary>
public sealed class SocketPermissionService : IHostedLifecycleService
{
    private readonly string _socket;

    public SocketPermissionService(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _socket = options.Socket;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        File.SetUnixFileMode(_socket, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        // Leave no socket behind that nothing answers on.
        File.Delete(_socket);
        return Task.CompletedTask;
    }
}
