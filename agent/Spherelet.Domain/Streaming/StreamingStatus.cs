namespace Spherelet.Domain.Streaming;

/// <summary>The streaming server's state for the verbose CRI Status.</summary>
public sealed record StreamingStatus(Uri? BaseUrl, int OpenSessions, IReadOnlyDictionary<string, (int Open, long Total)> Sessions, int PendingUrls);
