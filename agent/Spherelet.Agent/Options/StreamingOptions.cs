namespace Spherelet.Agent.Options;

/// <summary>The streaming server behind Exec, Attach and PortForward.</summary>
public sealed class StreamingOptions
{
    /// <summary>The address it listens on; the kubelet of this node proxies clients to it.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Its TCP port; 0: one the kernel picks at start.</summary>
    public int Port { get; set; }

    /// <summary>How long a streaming URL can be used (once).</summary>
    public int TokenLifetimeSeconds { get; set; } = 60;

    /// <summary>
    /// How long an exec, attach or port-forward session may carry no data either way before it is
    /// ended (the kubelet's --streaming-connection-idle-timeout, 4 hours by default); 0: never.
    /// </summary>
    public int IdleTimeoutSeconds { get; set; } = 4 * 3600;
}
