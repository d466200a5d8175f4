namespace Spherelet.Benchmarks;

/// <summary>What a command run for a measurement left: its exit code, its output and its error output, and how long it took on the host's clock.</summary>
internal sealed record ShellResult(int ExitCode, string Output, string Error, double ElapsedMs);
