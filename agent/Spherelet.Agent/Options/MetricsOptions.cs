namespace Spherelet.Agent.Options;

/// <summary>The Prometheus metrics listener: plain HTTP on TCP, apart from the CRI socket (which stays HTTP/2 on a Unix socket).</summary>
public sealed class MetricsOptions
{
    /// <summary>The address it listens on.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Its TCP port (<c>http://ADDRESS:PORT/metrics</c>); 0: no listener.</summary>
    public int Port { get; set; } = 9464;
}
