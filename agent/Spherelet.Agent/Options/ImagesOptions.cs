namespace Spherelet.Agent.Options;

/// <summary>The image store and how registries are reached.</summary>
public sealed class ImagesOptions
{
    /// <summary>Per registry host (as it appears in image names, with its port): mirrors, plain HTTP, TLS.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public Dictionary<string, RegistryHostSettings> Registries { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Attempts per registry request on 429, 5xx and connection errors.</summary>
    public int PullAttempts { get; set; } = 4;
}
