using Spherelet.Agent.Options;
using Spherelet.Libvirt;

namespace Spherelet.Agent.Virtualization;

/// <summary>
/// The one place that holds the agent's libvirt connection. It opens the connection on
/// first use and opens a new one when libvirtd went away (a restart of libvirtd), so
/// callers never see a dead connection twice. libvirt calls block, so they run on the
/// thread pool, one at a time over this connection.
/// </summary>
public sealed class LibvirtConnector : IDisposable
{
    private readonly string _uri;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LibvirtConnection? _connection;

    public LibvirtConnector(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _uri = options.LibvirtUri;
    }

    public string Uri => _uri;

    /// <summary>Runs <paramref name="call"/> with a live connection.</summary>
    /// <exception cref="LibvirtException">libvirtd cannot be reached, or the call failed.</exception>
    public async Task<T> UseAsync<T>(Func<LibvirtConnection, T> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(
                () =>
                {
                    if (_connection is { IsAlive: false })
                    {
                        _connection.Dispose();
                        _connection = null;
                    }

                    _connection ??= LibvirtConnection.Open(_uri);
                    return call(_connection);
                },
                cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }
}
