namespace Spherelet.Domain.Streaming;

/// <summary>A new process in a running container (CRI Exec).</summary>
/// <param name="Tty">Run it on a terminal (its stderr is then part of its stdout).</param>
public sealed record ExecStreamRequest(string ContainerId, IReadOnlyList<string> Command, bool Tty, bool Stdin, bool Stdout, bool Stderr) : StreamRequest;
