using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>
/// A benchmark's <c>--name value</c> pairs, checked: an unknown option, a missing value, a missing
/// required option or a count out of range is an <see cref="ArgumentException"/> naming it.
/// </summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values;

    private BenchArguments(Dictionary<string, string> values)
    {
        _values = values;
    }

    public static BenchArguments Parse(string[] args, params string[] known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!known.Contains(args[i], StringComparer.Ordinal))
            {
                throw new ArgumentException($"unknown option '{args[i]}'");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"{args[i]} needs a value");
            }

            values[args[i]] = args[i + 1];
        }

        return new BenchArguments(values);
    }

    public string Required(string name) => _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"{name} is required");

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>, or <paramref name="fallback"/> when not given.</summary>
    public int Count(string name, int fallback, int minimum, int maximum = int.MaxValue)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new ArgumentException(maximum == int.MaxValue
                ? $"{name} must be a whole number of at least {minimum}, not '{text}'"
                : $"{name} must be a whole number from {minimum} to {maximum}, not '{text}'");
    }
}
