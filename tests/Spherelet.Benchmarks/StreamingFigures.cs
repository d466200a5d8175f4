namespace Spherelet.Benchmarks;

/// <summary>What the streaming benchmark measured: the timed streaming execs, the ExecSync round trips (ms) interleaved with them, and the port-forward transfers.</summary>
internal sealed record StreamingFigures(IReadOnlyList<StreamingExecTiming> Exec, IReadOnlyList<double> ExecSync, IReadOnlyList<PortForwardTiming> Transfers);
