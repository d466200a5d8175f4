using System.Reflection;

namespace Spherelet.Domain.Runtime;

/// <summary>How Spherelet names itself to CRI clients.</summary>
public static class RuntimeIdentity
{
    /// <summary>The runtime name that <c>crictl version</c> prints.</summary>
    public const string Name = "spherelet";

    /// <summary>The CRI API version served.</summary>
    public const string CriApiVersion = "v1";

    /// <summary>
    /// The version of the kubelet-runtime API, which CRI's VersionResponse.version carries;
    /// every CRI v1 runtime answers 0.1.0 here.
    /// </summary>
    public const string KubeletApiVersion = "0.1.0";

    /// <summary>Spherelet's own version, from the assembly's informational version.</summary>
    public static string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        var informational = typeof(RuntimeIdentity).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return "0.0.0";
        }

        // The SDK appends "+<commit>" when source-link data is present; keep it short.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
