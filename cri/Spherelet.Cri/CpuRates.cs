using System.Collections.Concurrent;

namespace Spherelet.Cri;

/// <summary>
/// CPU usage as a rate (nanocores: CPU nanoseconds per second), from the cumulative figure of
/// the previous and the current sample of the same container or pod, as containerd reports
/// <c>usage_nano_cores</c>. The first sample has no rate.
/// </summary>
public sealed class CpuRates
{
    private readonly ConcurrentDictionary<string, (ulong CpuNanoseconds, long Timestamp)> _last = new(StringComparer.Ordinal);

    /// <param name="id">A container or pod sandbox id.</param>
    /// <param name="cpuNanoseconds">Cumulative CPU time.</param>
    /// <param name="timestamp">When it was read, Unix nanoseconds.</param>
    /// <returns>The rate since the previous sample, or null for the first one (or a clock or counter that went back).</returns>
    public ulong? Sample(string id, ulong cpuNanoseconds, long timestamp)
    {
        ulong? rate = null;
        _last.AddOrUpdate(
            id,
            (cpuNanoseconds, timestamp),
            (_, previous) =>
            {
                if (timestamp > previous.Timestamp && cpuNanoseconds >= previous.CpuNanoseconds)
                {
                    rate = (ulong)((cpuNanoseconds - previous.CpuNanoseconds) * 1e9 / (timestamp - previous.Timestamp));
                    return (cpuNanoseconds, timestamp);
                }

                return timestamp > previous.Timestamp || cpuNanoseconds < previous.CpuNanoseconds ? (cpuNanoseconds, timestamp) : previous;
            });
        return rate;
    }

    /// <summary>Forgets ids that are gone.</summary>
    public void Retain(IReadOnlySet<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in _last.Keys.Where(id => !ids.Contains(id)))
        {
            _last.TryRemove(id, out _);
        }
    }
}
