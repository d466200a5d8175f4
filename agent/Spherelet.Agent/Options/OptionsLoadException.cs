namespace Spherelet.Agent.Options;

/// <summary>The configuration cannot be used; the message names each offending key.</summary>
public sealed class OptionsLoadException : Exception
{
    public OptionsLoadException(IReadOnlyList<string> problems)
        : base("invalid configuration: " + string.Join("; ", problems))
    {
        Problems = problems;
    }

    public OptionsLoadException(string problem, Exception innerException)
        : base("invalid configuration: " + problem, innerException)
    {
        Problems = [problem];
    }

    public IReadOnlyList<string> Problems { get; }
}
