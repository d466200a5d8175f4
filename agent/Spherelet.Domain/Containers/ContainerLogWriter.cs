using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Containers;

/// <summary>
/// Writes one container's CRI log file on the host from what its pod's CRX streams, acknowledging
/// each batch once it is written. After an agent restart the guest sends again what was not
/// acknowledged; what the file has already (by time: a container's entries have strictly
/// increasing times) is skipped, so every line is written once. A guest that lies about times
/// only loses lines of its own log.
/// </summary>
internal sealed partial class ContainerLogWriter : IDisposable
{
    /// <summary>How much of the end of the file is read to find its last line's time (a line is at most 16 KiB plus its prefix).</summary>
    private const int TailBytes = 64 * 1024;

    private readonly IGuestContainers _guests;
    private readonly IHostLogFiles _files;
    private readonly string _sandboxId;
    private readonly string _containerId;
    private readonly string _logDirectory;
    private readonly string _relativePath;
    private readonly uint _windowBytes;
    private readonly ILogger _logger;
    private readonly Lock _fileGate = new();
    private readonly CancellationTokenSource _stop = new();
    private Stream? _file;

    /// <summary>Opens (creates) the log file at once, then follows the guest in the background.</summary>
    /// <exception cref="IOException">The log file cannot be made.</exception>
    public ContainerLogWriter(
        IGuestContainers guests, IHostLogFiles files, string sandboxId, string containerId, string logDirectory, string relativePath, uint windowBytes, ILogger logger)
    {
        _guests = guests;
        _files = files;
        _sandboxId = sandboxId;
        _containerId = containerId;
        _logDirectory = logDirectory;
        _relativePath = relativePath;
        _windowBytes = windowBytes;
        _logger = logger;
        var written = CriLogFormat.LastTime(_files.ReadTail(logDirectory, relativePath, TailBytes)) ?? long.MinValue;
        _file = _files.OpenAppend(logDirectory, relativePath);
        Completion = Task.Run(() => RunAsync(written));
    }

    /// <summary>Completes when the container's output is over and written, or following stopped.</summary>
    public Task Completion { get; }

    /// <summary>Closes the file and opens the path again (the kubelet rotated it).</summary>
    /// <exception cref="IOException">The new file cannot be made.</exception>
    public void Reopen()
    {
        lock (_fileGate)
        {
            _file?.Dispose();
            _file = null;
            _file = _files.OpenAppend(_logDirectory, _relativePath);
        }
    }

    /// <summary>Lets the writer finish for up to <paramref name="grace"/> (what the guest still sends), then stops it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await Task.WhenAny(Completion, Task.Delay(grace));
        await _stop.CancelAsync();
        await Completion;
    }

    public void Dispose() => _stop.Dispose();

    private async Task RunAsync(long written)
    {
        try
        {
            await using var log = await _guests.FollowLogAsync(_sandboxId, _containerId, _windowBytes, _stop.Token);
            await foreach (var batch in log.ReadAllAsync(_stop.Token))
            {
                if (batch.Entries.Count > 0)
                {
                    written = Write(batch.Entries, written);
                    await log.AcknowledgeAsync(batch.Entries[^1].Sequence, _stop.Token);
                }
            }

            LogEnded(_containerId);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is SphereletException or IOException)
        {
            LogFollowStopped(_containerId, e.Message);
        }
        finally
        {
            lock (_fileGate)
            {
                _file?.Dispose();
                _file = null;
            }
        }
    }

    private long Write(IReadOnlyList<GuestLogEntry> entries, long written)
    {
        lock (_fileGate)
        {
            var file = _file ??= _files.OpenAppend(_logDirectory, _relativePath);
            foreach (var entry in entries)
            {
                if (entry.TimeUnixNanos <= written)
                {
                    continue;
                }

                file.Write(CriLogFormat.Line(entry));
                written = entry.TimeUnixNanos;
            }

            file.Flush();
            return written;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "container log complete container={ContainerId}")]
    private partial void LogEnded(string containerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container log no longer followed container={ContainerId} error={Error}")]
    private partial void LogFollowStopped(string containerId, string error);
}
