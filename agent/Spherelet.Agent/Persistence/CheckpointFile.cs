using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Spherelet.Agent.Persistence;

/// <summary>Reads a versioned checkpoint file; one that cannot be used is reported, never loaded, and left for the operator.</summary>
public static class CheckpointFile
{
    /// <returns>The checkpoint, or null with a line added to <paramref name="problems"/>.</returns>
    public static async Task<T?> ReadAsync<T>(
        string path, JsonTypeInfo<T> typeInfo, Func<T, int> version, int currentVersion, ICollection<string> problems, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(problems);
        try
        {
            await using var stream = File.OpenRead(path);
            var checkpoint = await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken);
            if (checkpoint is null || version(checkpoint) != currentVersion)
            {
                problems.Add($"{path}: version {(checkpoint is null ? "none" : version(checkpoint))} is not {currentVersion}; left alone");
                return null;
            }

            return checkpoint;
        }
        catch (JsonException e)
        {
            problems.Add($"{path}: unreadable ({e.Message}); left alone");
            return null;
        }
    }
}
