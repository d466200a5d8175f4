using System.Collections;
using Microsoft.Extensions.Configuration;

namespace Spherelet.Agent.Options;

/// <summary>
/// Builds <see cref="SphereletOptions"/> from the layered sources and validates them.
/// Unknown keys are errors, so a typo in the file does not pass silently.
/// </summary>
public static class OptionsLoader
{
    public const string EnvironmentPrefix = "SPHERELET__";

    /// <exception cref="OptionsLoadException">A source cannot be read or a value is invalid.</exception>
    public static SphereletOptions Load(CommandLineSettings commandLine, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(environment);
        var environmentValues = EnvironmentValues(environment);
        var configPath = commandLine.ConfigPath
            ?? (environmentValues.TryGetValue("Config", out var fromEnvironment) ? fromEnvironment : null);
        var explicitConfig = configPath is not null;
        configPath ??= SphereletOptions.DefaultConfigPath;
        if (!Path.IsPathRooted(configPath))
        {
            configPath = Path.GetFullPath(configPath);
        }

        if (explicitConfig && !File.Exists(configPath))
        {
            throw new OptionsLoadException([$"Config: the file '{configPath}' does not exist"]);
        }

        var builder = new ConfigurationBuilder();
        if (File.Exists(configPath))
        {
            builder.AddJsonFile(configPath, optional: false, reloadOnChange: false);
        }

        environmentValues.Remove("Config");
        builder.AddInMemoryCollection(environmentValues);
        builder.AddInMemoryCollection(CommandLineValues(commandLine));

        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new OptionsLoadException($"Config: cannot read '{configPath}': {e.Message}", e);
        }

        var unknown = new List<string>();
        FindUnknownKeys(configuration, typeof(SphereletOptions), unknown);
        if (unknown.Count > 0)
        {
            throw new OptionsLoadException(unknown.Select(k => $"{k}: unknown configuration key").ToList());
        }

        var options = new SphereletOptions();
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new OptionsLoadException(e.Message, e);
        }

        var problems = SphereletOptionsValidator.Validate(options);
        if (problems.Count > 0)
        {
            throw new OptionsLoadException(problems);
        }

        return options;
    }

    /// <summary>Keys that match no property, so that a typo fails instead of being ignored.</summary>
    private static void FindUnknownKeys(IConfiguration section, Type type, List<string> unknown)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            if (property is null)
            {
                unknown.Add(child is IConfigurationSection s ? s.Path : child.Key);
            }
            else if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                // Named entries (runtime handlers): each entry's keys are checked against the value type.
                var valueType = property.PropertyType.GetGenericArguments()[1];
                foreach (var entry in child.GetChildren())
                {
                    FindUnknownKeys(entry, valueType, unknown);
                }
            }
            else if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(List<>))
            {
                // A list's children are its items ("0", "1", ...), not keys.
            }
            else if (property.PropertyType.IsClass && property.PropertyType != typeof(string))
            {
                FindUnknownKeys(child, property.PropertyType, unknown);
            }
        }
    }

    /// <summary>SPHERELET__GUEST__KERNELPATH becomes Guest:KernelPath (keys are case-insensitive).</summary>
    private static Dictionary<string, string?> EnvironmentValues(IDictionary environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string key && key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                values[key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = entry.Value as string;
            }
        }

        return values;
    }

    private static Dictionary<string, string?> CommandLineValues(CommandLineSettings commandLine)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Add(values, nameof(SphereletOptions.Socket), commandLine.Socket);
        Add(values, nameof(SphereletOptions.Root), commandLine.Root);
        Add(values, nameof(SphereletOptions.State), commandLine.State);
        Add(values, nameof(SphereletOptions.LogLevel), commandLine.LogLevel);
        return values;
    }

    private static void Add(Dictionary<string, string?> values, string key, string? value)
    {
        if (value is not null)
        {
            values[key] = value;
        }
    }
}
