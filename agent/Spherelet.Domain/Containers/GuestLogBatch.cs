namespace Spherelet.Domain.Containers;

/// <summary>Entries of a container's log, oldest first; <paramref name="End"/>: the output is over and this is the last batch.</summary>
public sealed record GuestLogBatch(IReadOnlyList<GuestLogEntry> Entries, bool End);
