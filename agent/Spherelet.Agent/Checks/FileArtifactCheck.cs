using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>A file Spherelet boots pod VMs with (guest kernel, initramfs) is present and not empty.</summary>
public sealed class FileArtifactCheck : IHostCheck
{
    private readonly string _path;
    private readonly string _reason;
    private readonly string _fix;

    public FileArtifactCheck(string name, HealthArea area, string path, string reason, string fix)
    {
        Name = name;
        Area = area;
        _path = path;
        _reason = reason;
        _fix = fix;
    }

    public string Name { get; }

    public HealthArea Area { get; }

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var file = new FileInfo(_path);
        var result = !file.Exists
            ? HostCheckResult.Fail(Name, Area, _reason, $"{_path} not found", _fix)
            : file.Length == 0
                ? HostCheckResult.Fail(Name, Area, _reason, $"{_path} is empty", _fix)
                : HostCheckResult.Ok(Name, Area, $"{_path} ({file.Length / 1024} KiB)");
        return Task.FromResult(result);
    }
}
