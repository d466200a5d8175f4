using System.Globalization;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>User and group lookups in an image's /etc/passwd and /etc/group, as container runtimes do them.</summary>
public static class ImageUsers
{
    /// <summary>(uid, gid, name) of a passwd entry found by name or uid; null when absent.</summary>
    public static (long Uid, long Gid, string Name)? FindUser(string passwd, string nameOrUid)
    {
        ArgumentNullException.ThrowIfNull(passwd);
        foreach (var fields in Entries(passwd))
        {
            if (fields.Length >= 4
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid)
                && (fields[0] == nameOrUid || fields[2] == nameOrUid))
            {
                return (uid, gid, fields[0]);
            }
        }

        return null;
    }

    public static long? FindGroup(string group, string nameOrGid)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (var fields in Entries(group))
        {
            if (fields.Length >= 3 && (fields[0] == nameOrGid || fields[2] == nameOrGid)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                return gid;
            }
        }

        return null;
    }

    /// <summary>The groups whose member list names <paramref name="userName"/>.</summary>
    public static IEnumerable<long> GroupsOf(string group, string userName)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (var fields in Entries(group))
        {
            if (fields.Length >= 4 && fields[3].Split(',').Contains(userName, StringComparer.Ordinal)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                yield return gid;
            }
        }
    }

    /// <summary>
    /// The process user: run_as_user, else run_as_username, else the image's USER
    /// ("uid", "name", "uid:gid", "name:group"); the group from run_as_group, the USER's group
    /// part, or the user's passwd entry; supplemental groups: the process's group, those of the
    /// request and (unless <paramref name="strict"/>, CRI's SupplementalGroupsPolicy Strict) the
    /// user's groups in the image's /etc/group.
    /// </summary>
    /// <exception cref="InvalidRequestException">A named user or group is not in the image; run_as_group without a user.</exception>
    public static (long Uid, long Gid, IReadOnlyList<long> AdditionalGids) Resolve(
        string passwd, string group, long? runAsUser, string runAsUsername, long? runAsGroup, IEnumerable<long> supplemental, string imageUser, bool strict = false)
    {
        if (runAsGroup is not null && runAsUser is null && string.IsNullOrEmpty(runAsUsername))
        {
            // As containerd: a group alone would be paired with whatever user the image names.
            throw new InvalidRequestException("run_as_group needs run_as_user or run_as_username");
        }

        string userPart;
        string? groupPart = null;
        if (runAsUser is not null)
        {
            userPart = runAsUser.Value.ToString(CultureInfo.InvariantCulture);
        }
        else if (!string.IsNullOrEmpty(runAsUsername))
        {
            userPart = runAsUsername;
        }
        else
        {
            var parts = (imageUser ?? string.Empty).Split(':', 2);
            userPart = parts[0].Length == 0 ? "0" : parts[0];
            groupPart = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null;
        }

        var entry = FindUser(passwd, userPart);
        long uid;
        if (long.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
        {
            uid = numeric;
        }
        else
        {
            uid = entry?.Uid ?? throw new InvalidRequestException($"user '{userPart}' is not in the image's /etc/passwd");
        }

        long gid;
        if (runAsGroup is not null)
        {
            gid = runAsGroup.Value;
        }
        else if (groupPart is not null)
        {
            gid = long.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out var g)
                ? g
                : FindGroup(group, groupPart) ?? throw new InvalidRequestException($"group '{groupPart}' is not in the image's /etc/group");
        }
        else
        {
            gid = entry?.Gid ?? 0;
        }

        var additional = new SortedSet<long>(supplemental) { gid };
        if (!strict && entry is { Name: var name })
        {
            additional.UnionWith(GroupsOf(group, name));
        }

        return (uid, gid, additional.ToList());
    }

    private static IEnumerable<string[]> Entries(string file) =>
        file.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(':'));
}
