namespace Spherelet.Agent.Options;

/// <summary>The settings given on the command line; null where a flag was not given.</summary>
public sealed record CommandLineSettings(
    string? ConfigPath = null,
    string? Socket = null,
    string? Root = null,
    string? State = null,
    string? LogLevel = null);
