namespace Spherelet.Benchmarks;

/// <summary>
/// One exec through the streaming server, in ms from the CRI Exec call: until the call returned
/// the URL, until the WebSocket upgrade was done, and until the exit status arrived on the error channel.
/// </summary>
internal sealed record StreamingExecTiming(double UrlMs, double UpgradedMs, double StatusMs);
