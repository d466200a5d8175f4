using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryOptionsValidatorTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(RegistryOptionsValidator.Validate(new RegistryOptions()));
    }

    [Fact]
    public void Every_problem_is_reported_with_its_key_and_without_credentials()
    {
        var options = new RegistryOptions { MaxAttempts = 0, FirstRetryDelay = TimeSpan.Zero };
        options.Hosts["bad host"] = new RegistryHostOptions();
        options.Hosts["docker.io"] = new RegistryHostOptions { Mirrors = ["https://user:hunter2@mirror.example", "ftp://mirror.example", "not a host", ""] };

        var errors = RegistryOptionsValidator.Validate(options);

        Assert.Collection(
            errors,
            e => Assert.StartsWith("MaxAttempts:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("FirstRetryDelay:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("Hosts:bad host:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("Hosts:docker.io:Mirrors:0:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("Hosts:docker.io:Mirrors:1:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("Hosts:docker.io:Mirrors:2:", e, StringComparison.Ordinal),
            e => Assert.StartsWith("Hosts:docker.io:Mirrors:3:", e, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void The_client_refuses_invalid_options()
    {
        var error = Assert.Throws<ArgumentException>(() => new RegistryClient(new RegistryOptions { MaxAttempts = 100 }, NullLogger<RegistryClient>.Instance));

        Assert.Contains("MaxAttempts", error.Message, StringComparison.Ordinal);
    }
}
