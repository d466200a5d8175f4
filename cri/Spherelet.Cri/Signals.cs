using System.Collections.Frozen;
using System.Globalization;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

/// <summary>Linux (x86-64) signal numbers for CRI's Signal values and for an image's StopSignal text.</summary>
public static class Signals
{
    public const int SigTerm = 15;
    private const int RtMin = 34;
    private const int RtMax = 64;

    private static readonly Google.Protobuf.Reflection.EnumDescriptor SignalEnum =
        Runtime.V1.ApiReflection.Descriptor.EnumTypes.Single(e => e.Name == "Signal");

    private static readonly FrozenDictionary<string, int> Numbers = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["SIGHUP"] = 1, ["SIGINT"] = 2, ["SIGQUIT"] = 3, ["SIGILL"] = 4, ["SIGTRAP"] = 5, ["SIGABRT"] = 6, ["SIGIOT"] = 6,
        ["SIGBUS"] = 7, ["SIGFPE"] = 8, ["SIGKILL"] = 9, ["SIGUSR1"] = 10, ["SIGSEGV"] = 11, ["SIGUSR2"] = 12, ["SIGPIPE"] = 13,
        ["SIGALRM"] = 14, ["SIGTERM"] = 15, ["SIGSTKFLT"] = 16, ["SIGCHLD"] = 17, ["SIGCLD"] = 17, ["SIGCONT"] = 18, ["SIGSTOP"] = 19,
        ["SIGTSTP"] = 20, ["SIGTTIN"] = 21, ["SIGTTOU"] = 22, ["SIGURG"] = 23, ["SIGXCPU"] = 24, ["SIGXFSZ"] = 25, ["SIGVTALRM"] = 26,
        ["SIGPROF"] = 27, ["SIGWINCH"] = 28, ["SIGIO"] = 29, ["SIGPOLL"] = 29, ["SIGPWR"] = 30, ["SIGSYS"] = 31,
        ["SIGRTMIN"] = RtMin, ["SIGRTMAX"] = RtMax,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The signal a CRI Signal value names; null for RUNTIME_DEFAULT.</summary>
    public static int? FromCri(Runtime.V1.Signal signal)
    {
        if (signal == Runtime.V1.Signal.RuntimeDefault)
        {
            return null;
        }

        var name = SignalEnum.FindValueByNumber((int)signal)?.Name
            ?? throw new InvalidRequestException($"stop_signal {(int)signal} is not a signal");
        return Parse(name) ?? throw new InvalidRequestException($"stop_signal {name} is not a signal");
    }

    /// <summary>The CRI Signal value for a signal number (RUNTIME_DEFAULT when it has none).</summary>
    public static Runtime.V1.Signal ToCri(int number)
    {
        foreach (var value in SignalEnum.Values)
        {
            if (value.Number != 0 && Parse(value.Name) == number)
            {
                return (Runtime.V1.Signal)value.Number;
            }
        }

        return Runtime.V1.Signal.RuntimeDefault;
    }

    /// <summary>
    /// A signal as images and CRI write it: "SIGTERM", "TERM", "15", "SIGRTMIN+3", "SIGRTMINPLUS3",
    /// "SIGRTMAX-2", "SIGRTMAXMINUS2"; null when it is none of those.
    /// </summary>
    public static int? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.Trim().ToUpperInvariant();
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number is > 0 and <= RtMax ? number : null;
        }

        if (!name.StartsWith("SIG", StringComparison.Ordinal))
        {
            name = "SIG" + name;
        }

        if (Numbers.TryGetValue(name, out var known))
        {
            return known;
        }

        foreach (var (prefix, baseNumber, sign) in new[] { ("SIGRTMIN+", RtMin, 1), ("SIGRTMINPLUS", RtMin, 1), ("SIGRTMAX-", RtMax, -1), ("SIGRTMAXMINUS", RtMax, -1) })
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(name[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                && baseNumber + (sign * offset) is >= RtMin and <= RtMax)
            {
                return baseNumber + (sign * offset);
            }
        }

        return null;
    }
}
