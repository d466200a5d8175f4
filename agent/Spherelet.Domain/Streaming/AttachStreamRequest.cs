namespace Spherelet.Domain.Streaming;

/// <summary>The main process of a running container (CRI Attach).</summary>
/// <param name="Tty">The container runs on a terminal.</param>
public sealed record AttachStreamRequest(string ContainerId, bool Tty, bool Stdin, bool Stdout, bool Stderr) : StreamRequest;
