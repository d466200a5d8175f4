namespace Spherelet.Images.Registry;

/// <summary>Settings for one registry host (the key in <see cref="RegistryOptions.Hosts"/>, e.g. <c>docker.io</c> or <c>10.0.0.5:5000</c>).</summary>
public sealed class RegistryHostOptions
{
    /// <summary>
    /// Mirrors tried in order before the host itself: <c>host[:port]</c> (https, or http for a loopback host or a host
    /// configured with <see cref="PlainHttp"/>) or a full <c>http(s)://host[:port][/prefix]</c> URL.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public List<string> Mirrors { get; set; } = [];

    /// <summary>Talk plain HTTP to this host. Loopback hosts (127.0.0.0/8, ::1, localhost) always get plain HTTP.</summary>
    public bool PlainHttp { get; set; }

    /// <summary>Accept any TLS certificate from this host (only when the client builds its own HTTP handler).</summary>
    public bool SkipTlsVerify { get; set; }

    /// <summary>
    /// Offer a pull's credentials for this host to its mirrors too. Off by default: credentials are
    /// meant for the registry the image names (or the one CRI's <c>server_address</c> names), so
    /// mirrors are asked anonymously unless the operator trusts them with the same secrets.
    /// </summary>
    public bool SendCredentialsToMirrors { get; set; }
}
