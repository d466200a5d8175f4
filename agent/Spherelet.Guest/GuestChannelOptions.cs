namespace Spherelet.Guest;

/// <summary>How the agent talks to each pod's CRX.</summary>
public sealed record GuestChannelOptions
{
    /// <summary>How long a connection may wait for the guest to boot and answer Hello.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often an idle connection pings CRX.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A guest that leaves a ping unanswered this long is treated as gone.</summary>
    public TimeSpan KeepaliveTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long any call may wait for the guest's answer (waiting for a process to exit aside):
    /// a guest that answers pings but not calls costs a call no more than this.
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The agent's version, sent in Hello.</summary>
    public string HostVersion { get; init; } = "unknown";
}
