namespace Spherelet.Benchmarks;

/// <summary>
/// TCP transfers of one pair: the rate of each timed transfer in Mbit/s (the median time of an
/// empty transfer subtracted), the times of the empty transfers (starting the commands, connecting,
/// closing) in ms, and the bytes each timed transfer sent.
/// </summary>
internal sealed record TcpThroughput(IReadOnlyList<double> Mbps, IReadOnlyList<double> EmptyMs, long Bytes);
