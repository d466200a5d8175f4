using System.Text;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Containers;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>A container's log as the agent writes it, read straight from CRX's spool (FollowLog), acknowledging as it goes.</summary>
internal static class GuestLogLines
{
    /// <summary>The CRI log lines of the container until its output is over (or <paramref name="enough"/> says so).</summary>
    public static async Task<IReadOnlyList<string>> ReadAsync(CrxClient crx, string containerId, TimeSpan timeout, Func<IReadOnlyList<string>, bool>? enough = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        await using var follower = await crx.FollowLogAsync(containerId, 1 << 20, cts.Token);
        var lines = new List<string>();
        await foreach (var batch in follower.Batches.ReadAllAsync(cts.Token))
        {
            lines.AddRange(batch.Entries.Select(Line));
            if (batch.Entries.Count > 0)
            {
                await follower.AcknowledgeAsync(batch.Entries[^1].Sequence, cts.Token);
            }

            if (enough?.Invoke(lines) == true)
            {
                break;
            }
        }

        return lines;
    }

    public static string Line(LogEntry entry) =>
        Encoding.UTF8.GetString(CriLogFormat.Line(new GuestLogEntry(entry.Sequence, entry.TimeUnixNanos, entry.Stream == StreamKind.Stderr, entry.Partial, entry.Content.Memory))).TrimEnd('\n').TrimEnd('\r');
}
