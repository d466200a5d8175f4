namespace Spherelet.Domain.Containers;

/// <summary>What a finished ExecSync process left: its output (each stream capped) and its exit.</summary>
/// <param name="TimedOut">The timeout passed: the process was killed and <paramref name="ExitCode"/> is what the kill left.</param>
public sealed record ExecResult(byte[] Stdout, byte[] Stderr, int ExitCode, bool TimedOut);
