using System.Globalization;
using System.Text.Json.Nodes;
using Spherelet.Crx.Protocol;

namespace Spherelet.Crx.Containers;

/// <summary>
/// Disks the host hot-plugged for a container: the spec names each by its serial in an annotation
/// (<c>io.spherelet.block-device/CONTAINER_PATH</c> = <c>SERIAL:PERMISSIONS</c>) and carries a block
/// node at that path without numbers. CRX waits for the disk to appear, fills in its major and minor
/// numbers and allows them in the container's device cgroup with the permissions asked for.
/// </summary>
internal static class BlockDevices
{
    /// <exception cref="CrxRequestException">A malformed annotation, or a disk that did not appear in time.</exception>
    public static async Task ResolveAsync(JsonObject spec, string sysBlock, TimeSpan wait)
    {
        if (spec["annotations"] is not JsonObject annotations)
        {
            return;
        }

        foreach (var (key, value) in annotations.ToList())
        {
            if (!key.StartsWith(SpecAnnotations.BlockDevicePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var containerPath = key[SpecAnnotations.BlockDevicePrefix.Length..];
            var text = value?.GetValue<string>() ?? string.Empty;
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || colon > 20 || text[(colon + 1)..].Any(c => c is not ('r' or 'w' or 'm')))
            {
                throw Invalid($"annotation {key}: '{text}' is not SERIAL:PERMISSIONS");
            }

            var (serial, permissions) = (text[..colon], text[(colon + 1)..]);
            var (major, minor) = await FindAsync(serial, sysBlock, wait)
                ?? throw Invalid($"the disk with serial {serial} for {containerPath} did not appear in the VM within {wait.TotalSeconds:0} s");
            var node = (spec["linux"]?["devices"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(d => d["path"]?.GetValue<string>() == containerPath && d["type"]?.GetValue<string>() == "b")
                ?? throw Invalid($"annotation {key} names no block device of the spec");
            node["major"] = major;
            node["minor"] = minor;
            if (spec["linux"]!["resources"] is not JsonObject resources)
            {
                resources = new JsonObject();
                spec["linux"]!["resources"] = resources;
            }

            if (resources["devices"] is not JsonArray rules)
            {
                rules = new JsonArray();
                resources["devices"] = rules;
            }

            rules.Add((JsonNode)new JsonObject { ["allow"] = true, ["type"] = "b", ["major"] = major, ["minor"] = minor, ["access"] = permissions });
        }
    }

    /// <summary>The major and minor numbers of the disk whose serial is <paramref name="serial"/>, polling until it appears.</summary>
    public static async Task<(long Major, long Minor)?> FindAsync(string serial, string sysBlock, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            foreach (var disk in Directory.Exists(sysBlock) ? Directory.GetDirectories(sysBlock) : [])
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(disk, "serial")).Trim() == serial
                        && File.ReadAllText(Path.Combine(disk, "dev")).Trim().Split(':') is [var major, var minor])
                    {
                        return (long.Parse(major, CultureInfo.InvariantCulture), long.Parse(minor, CultureInfo.InvariantCulture));
                    }
                }
                catch (IOException)
                {
                    // Not a disk with a serial, or going away.
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                return null;
            }

            await Task.Delay(100);
        }
    }

    private static CrxRequestException Invalid(string message) => new(CrxProtocol.Codes.InvalidArgument, message);
}
