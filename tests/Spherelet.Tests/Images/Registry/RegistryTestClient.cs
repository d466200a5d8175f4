using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

/// <summary>Registry clients for tests: fast retries, a capturing logger.</summary>
internal static class RegistryTestClient
{
    public static RegistryOptions Options(int maxAttempts = 4) =>
        new() { MaxAttempts = maxAttempts, FirstRetryDelay = TimeSpan.FromMilliseconds(10) };

    public static RegistryClient Create(out CapturingLogger<RegistryClient> logger, RegistryOptions? options = null)
    {
        logger = new CapturingLogger<RegistryClient>();
        return new RegistryClient(options ?? Options(), logger);
    }
}
