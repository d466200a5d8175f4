namespace Spherelet.Images;

/// <summary>Bytes fetched and layers done of one pull, updated from concurrent layer downloads.</summary>
internal sealed class PullProgress(long totalBytes) : IProgress<long>
{
    private long _bytes;
    private int _layersDone;

    public long TotalBytes { get; } = totalBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public int LayersDone => Volatile.Read(ref _layersDone);

    public void Report(long value) => Interlocked.Add(ref _bytes, value);

    public void LayerDone() => Interlocked.Increment(ref _layersDone);

    public double MiBPerSecond(TimeSpan elapsed) =>
        elapsed.TotalSeconds <= 0 ? 0 : Bytes / (1024.0 * 1024.0) / elapsed.TotalSeconds;
}
