namespace Spherelet.Domain.Containers;

/// <summary>One CRI log line of a container's output as CRX spooled it.</summary>
/// <param name="Sequence">Increases by one per entry of the container's output.</param>
/// <param name="TimeUnixNanos">When the output was read, in the VM's clock; strictly increasing in a container's log.</param>
/// <param name="Stderr">From stderr, else stdout.</param>
/// <param name="Partial">A part of a line longer than the CRI maximum; the line goes on in the next entry.</param>
/// <param name="Content">The line without its newline.</param>
public sealed record GuestLogEntry(ulong Sequence, long TimeUnixNanos, bool Stderr, bool Partial, ReadOnlyMemory<byte> Content);
