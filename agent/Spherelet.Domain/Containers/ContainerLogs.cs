using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Spherelet.Domain.Containers;

/// <summary>
/// The CRI log files of the node's containers, written by the host (a pod VM never sees the
/// kubelet's log directory): one <see cref="ContainerLogWriter"/> per container whose output is
/// not all written yet.
/// </summary>
public sealed class ContainerLogs : IAsyncDisposable
{
    private readonly IGuestContainers _guests;
    private readonly IHostLogFiles _files;
    private readonly uint _windowBytes;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ContainerLogWriter> _writers = new(StringComparer.Ordinal);

    public ContainerLogs(IGuestContainers guests, IHostLogFiles files, uint windowBytes, ILogger logger)
    {
        _guests = guests;
        _files = files;
        _windowBytes = windowBytes;
        _logger = logger;
    }

    /// <summary>Starts writing the container's log (a writer that is still at it is kept).</summary>
    /// <exception cref="IOException">The log file cannot be made.</exception>
    public void Start(string sandboxId, string containerId, string logDirectory, string relativePath)
    {
        if (_writers.TryGetValue(containerId, out var running))
        {
            if (!running.Completion.IsCompleted)
            {
                return;
            }

            running.Dispose();
        }

        _writers[containerId] = new ContainerLogWriter(_guests, _files, sandboxId, containerId, logDirectory, relativePath, _windowBytes, _logger);
    }

    /// <summary>Reopens the container's log file at its path; false when nothing writes it now.</summary>
    /// <exception cref="IOException">The new file cannot be made.</exception>
    public bool Reopen(string containerId)
    {
        if (_writers.TryGetValue(containerId, out var writer) && !writer.Completion.IsCompleted)
        {
            writer.Reopen();
            return true;
        }

        return false;
    }

    /// <summary>Stops writing the container's log, after up to <paramref name="grace"/> for what is still on its way.</summary>
    public async Task StopAsync(string containerId, TimeSpan grace)
    {
        if (_writers.TryRemove(containerId, out var writer))
        {
            await writer.StopAsync(grace);
            writer.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _writers.Keys)
        {
            await StopAsync(id, TimeSpan.Zero);
        }
    }
}
