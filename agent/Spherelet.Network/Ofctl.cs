using System.Globalization;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>ovs-ofctl on a bridge's management socket, and the cookies that mark this agent's flows.</summary>
internal static partial class Ofctl
{
    /// <summary>The bridge's OpenFlow management socket under ovs-vswitchd's run directory.</summary>
    public static string Target(string runDirectory, string bridge) => $"unix:{Path.Combine(runDirectory, bridge + ".mgmt")}";

    public static Task<string> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("ovs-ofctl", arguments, cancellationToken);

    /// <summary>Adds <paramref name="flows"/> in one ovs-ofctl run (<c>add-flows TARGET -</c>, one flow a line), in order.</summary>
    public static Task AddFlowsAsync(string target, IEnumerable<string> flows, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("ovs-ofctl", ["add-flows", target, "-"], string.Join('\n', flows) + "\n", cancellationToken);

    /// <summary>The upper half of this agent's cookies: the first eight hex digits of its instance.</summary>
    public static ulong InstanceBits(string instance)
    {
        ArgumentException.ThrowIfNullOrEmpty(instance);
        return ulong.Parse(instance[..Math.Min(8, instance.Length)], NumberStyles.HexNumber, CultureInfo.InvariantCulture) << 32;
    }

    /// <summary>The cookies in ovs-ofctl's dump-flows output.</summary>
    public static IEnumerable<ulong> Cookies(string dump) =>
        CookieField().Matches(dump).Select(m => ulong.Parse(m.Groups["cookie"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    [GeneratedRegex("cookie=0x(?<cookie>[0-9a-f]+)")]
    private static partial Regex CookieField();
}
