using System.Text.Json;

namespace Spherelet.Images.Store;

/// <summary>What a container needs from an image's config: user, environment, command, directory, labels, ports, volumes.</summary>
public sealed record ImageConfigInfo
{
    public string User { get; init; } = string.Empty;

    public IReadOnlyList<string> Env { get; init; } = [];

    public IReadOnlyList<string> Entrypoint { get; init; } = [];

    public IReadOnlyList<string> Cmd { get; init; } = [];

    public string WorkingDir { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> ExposedPorts { get; init; } = [];

    public IReadOnlyList<string> Volumes { get; init; } = [];

    public string StopSignal { get; init; } = string.Empty;

    public string Architecture { get; init; } = string.Empty;

    public string Os { get; init; } = string.Empty;

    /// <summary>The uncompressed digests of the layers, in order (rootfs.diff_ids).</summary>
    public IReadOnlyList<string> DiffIds { get; init; } = [];

    /// <exception cref="ImageException">Invalid: not an image config.</exception>
    public static ImageConfigInfo Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            var config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
            return new ImageConfigInfo
            {
                User = Text(config, "User"),
                Env = Strings(config, "Env"),
                Entrypoint = Strings(config, "Entrypoint"),
                Cmd = Strings(config, "Cmd"),
                WorkingDir = Text(config, "WorkingDir"),
                Labels = Map(config, "Labels"),
                ExposedPorts = Keys(config, "ExposedPorts"),
                Volumes = Keys(config, "Volumes"),
                StopSignal = Text(config, "StopSignal"),
                Architecture = Text(root, "architecture"),
                Os = Text(root, "os"),
                DiffIds = root.TryGetProperty("rootfs", out var rootfs) ? Strings(rootfs, "diff_ids") : [],
            };
        }
        catch (JsonException e)
        {
            throw new ImageException(ImageErrorKind.Invalid, "the image config is not JSON: " + e.Message, e);
        }
    }

    private static string Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : string.Empty;

    private static string[] Strings(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToArray()
            : [];

    private static string[] Keys(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value.EnumerateObject().Select(p => p.Name).ToArray()
            : [];

    private static Dictionary<string, string> Map(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
}
