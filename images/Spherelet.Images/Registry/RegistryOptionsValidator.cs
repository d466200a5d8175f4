namespace Spherelet.Images.Registry;

/// <summary>Checks registry options at start; each problem names its key.</summary>
public static class RegistryOptionsValidator
{
    public const int MaxAttemptsLimit = 20;

    public static IReadOnlyList<string> Validate(RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxAttempts is < 1 or > MaxAttemptsLimit)
        {
            errors.Add($"MaxAttempts: {options.MaxAttempts} is not between 1 and {MaxAttemptsLimit}");
        }

        if (options.FirstRetryDelay <= TimeSpan.Zero || options.FirstRetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"FirstRetryDelay: {options.FirstRetryDelay} is not more than zero and at most one minute");
        }

        if (options.Hosts is null)
        {
            errors.Add("Hosts: must not be null");
            return errors;
        }

        foreach (var (host, settings) in options.Hosts)
        {
            var key = "Hosts:" + host;
            if (!ReferenceGrammar.Domain().IsMatch(host))
            {
                errors.Add($"{key}: '{host}' is not a registry host[:port]");
            }

            if (settings is null)
            {
                errors.Add($"{key}: must not be null");
                continue;
            }

            if (settings.Mirrors is null)
            {
                errors.Add($"{key}:Mirrors: must not be null");
                continue;
            }

            for (var i = 0; i < settings.Mirrors.Count; i++)
            {
                if (RegistryEndpoint.ParseMirror(settings.Mirrors[i], options, out var error) is null)
                {
                    errors.Add($"{key}:Mirrors:{i}: {error}");
                }
            }
        }

        return errors;
    }
}
