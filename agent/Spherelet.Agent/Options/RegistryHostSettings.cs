namespace Spherelet.Agent.Options;

/// <summary>How to reach one registry host: mirrors tried first, plain HTTP, TLS verification.</summary>
public sealed class RegistryHostSettings
{
    /// <summary>Mirrors, tried in order before the host itself: "host[:port]" or "http(s)://host[:port]".</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public List<string> Mirrors { get; set; } = [];

    /// <summary>Speak plain HTTP to this host (loopback hosts always may).</summary>
    public bool PlainHttp { get; set; }

    /// <summary>Accept any TLS certificate from this host.</summary>
    public bool SkipTlsVerify { get; set; }

    /// <summary>Offer a pull's credentials (for this host) to its mirrors too; off: mirrors are asked anonymously.</summary>
    public bool SendCredentialsToMirrors { get; set; }
}
