namespace Spherelet.Benchmarks;

/// <summary>What the network benchmark measured: round trips in ms, TCP transfers, and how many host ms a guest ms lasted.</summary>
internal sealed record NetworkFigures(
    IReadOnlyList<double> RttSame,
    IReadOnlyList<double> RttAcross,
    IReadOnlyList<double> RttNetns,
    TcpThroughput TcpSame,
    TcpThroughput TcpAcross,
    TcpThroughput TcpNetns,
    double GuestClock);
