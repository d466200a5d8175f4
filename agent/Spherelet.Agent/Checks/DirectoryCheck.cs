using Spherelet.Domain.Health;
using Tmds.Linux;

namespace Spherelet.Agent.Checks;

/// <summary>
/// A directory the agent writes to can be written: it exists and is writable, or the
/// nearest existing parent is writable so the agent can create it.
/// </summary>
public sealed class DirectoryCheck : IHostCheck
{
    private readonly string _path;

    public DirectoryCheck(string name, string path)
    {
        Name = name;
        _path = path;
    }

    public string Name { get; }

    public HealthArea Area => HealthArea.Runtime;

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var existing = Path.GetFullPath(_path);
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                return Task.FromResult(HostCheckResult.Fail(
                    Name, Area, "DirectoryNotWritable", $"{existing} is a file, not a directory", $"remove {existing} or configure another path"));
            }

            existing = Path.GetDirectoryName(existing) ?? "/";
        }

        var result = IsWritable(existing)
            ? HostCheckResult.Ok(Name, Area, existing == _path ? $"{_path} writable" : $"{_path} can be created under {existing}")
            : HostCheckResult.Fail(
                Name, Area, "DirectoryNotWritable", $"{existing} is not writable by this user", "run spherelet as root, or configure a writable path");
        return Task.FromResult(result);
    }

    private static unsafe bool IsWritable(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return LibC.access(p, LibC.W_OK | LibC.X_OK) == 0;
        }
    }
}
