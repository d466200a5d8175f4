namespace Spherelet.Domain.Containers;

/// <summary>A chunk of a process's output.</summary>
/// <param name="Stderr">From stderr, else from stdout (or the terminal).</param>
public sealed record ProcessOutput(bool Stderr, ReadOnlyMemory<byte> Data);
