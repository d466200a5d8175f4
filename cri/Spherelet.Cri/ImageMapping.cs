using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Images;
using Spherelet.Images.Registry;
using Spherelet.Images.Store;

namespace Spherelet.Cri;

/// <summary>Pure mappings between CRI's image messages and the image store.</summary>
public static class ImageMapping
{
    /// <summary>The image a CRI ImageSpec names (InvalidArgument when it names none).</summary>
    public static string ImageName(ImageSpec? spec) =>
        spec is { Image.Length: > 0 } ? spec.Image : throw new ImageException(ImageErrorKind.Invalid, "image spec: image must not be empty");

    public static RegistryCredentials? Credentials(AuthConfig? auth) =>
        auth is null ? null : RegistryCredentials.FromAuthConfig(auth.Username, auth.Password, auth.Auth, auth.IdentityToken, auth.RegistryToken, auth.ServerAddress);

    public static Image ToCri(ImageRecord image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var cri = new Image
        {
            Id = image.Id,
            Size = (ulong)image.Size,
            Spec = new ImageSpec { Image = image.Id },
            Pinned = false,
        };
        cri.RepoTags.AddRange(image.RepoTags);
        cri.RepoDigests.AddRange(image.RepoDigests);
        // The kubelet reads a numeric user as uid, anything else as a user name.
        var user = image.Config.User.Split(':', 2)[0];
        if (long.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
        {
            cri.Uid = new Int64Value { Value = uid };
        }
        else
        {
            cri.Username = user;
        }

        return cri;
    }

    /// <summary>ImageStatus's verbose "info": the manifest, layers and the config as the store keeps it.</summary>
    public static string VerboseInfo(ImageRecord image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var config = image.Config;
        var info = new JsonObject
        {
            ["id"] = image.Id,
            ["manifestDigest"] = image.ManifestDigest,
            ["size"] = image.Size,
            ["layers"] = new JsonArray(image.Layers.Select(l => (JsonNode)new JsonObject { ["digest"] = l.Digest, ["size"] = l.Size, ["mediaType"] = l.MediaType }).ToArray()),
            ["config"] = new JsonObject
            {
                ["user"] = config.User,
                ["env"] = Strings(config.Env),
                ["entrypoint"] = Strings(config.Entrypoint),
                ["cmd"] = Strings(config.Cmd),
                ["workingDir"] = config.WorkingDir,
                ["labels"] = new JsonObject(config.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                ["exposedPorts"] = Strings(config.ExposedPorts),
                ["volumes"] = Strings(config.Volumes),
                ["stopSignal"] = config.StopSignal,
                ["architecture"] = config.Architecture,
                ["os"] = config.Os,
            },
        };
        return info.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static FilesystemUsage ToCri(ImageFsUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        return new FilesystemUsage
        {
            Timestamp = usage.Timestamp,
            FsId = new FilesystemIdentifier { Mountpoint = usage.Mountpoint },
            UsedBytes = new UInt64Value { Value = usage.UsedBytes },
            InodesUsed = new UInt64Value { Value = usage.InodesUsed },
        };
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}
