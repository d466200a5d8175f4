using System.Net;

namespace Spherelet.Streaming;

/// <summary>Where the streaming server listens and how long its URLs live.</summary>
/// <param name="Address">The address it listens on (127.0.0.1 by default: the kubelet on this node proxies to it).</param>
/// <param name="Port">Its TCP port; 0 for one the kernel picks.</param>
/// <param name="TokenLifetime">How long a URL can be used (once) after Exec, Attach or PortForward handed it out.</param>
/// <param name="IdleTimeout">How long a session may carry no data before it is ended; zero: for ever.</param>
public sealed record StreamingServerOptions(IPAddress Address, int Port, TimeSpan TokenLifetime, TimeSpan IdleTimeout = default);
