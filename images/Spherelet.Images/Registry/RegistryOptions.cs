namespace Spherelet.Images.Registry;

/// <summary>How the registry client reaches registries; checked by <see cref="RegistryOptionsValidator"/>.</summary>
public sealed class RegistryOptions
{
    /// <summary>Per-host settings, keyed by the registry host of image references (case-insensitive).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public Dictionary<string, RegistryHostOptions> Hosts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Attempts per request against one endpoint, the first included (1 to 20).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The delay before the first retry; it doubles (with jitter) for every further one. A Retry-After header wins.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
