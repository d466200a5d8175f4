using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>
/// A file Spherelet needs is present: a program that must be executable (QEMU, crun), or
/// an artifact pod VMs boot with that must not be empty (guest kernel, initramfs).
/// </summary>
public sealed class FileCheck : IHostCheck
{
    private readonly string _path;
    private readonly bool _executable;
    private readonly string _reason;
    private readonly string _fix;

    private FileCheck(string name, HealthArea area, string path, bool executable, string reason, string fix)
    {
        Name = name;
        Area = area;
        _path = path;
        _executable = executable;
        _reason = reason;
        _fix = fix;
    }

    public string Name { get; }

    public HealthArea Area { get; }

    public static FileCheck Executable(string name, HealthArea area, string path, string reason, string fix) =>
        new(name, area, path, executable: true, reason, fix);

    public static FileCheck Artifact(string name, HealthArea area, string path, string reason, string fix) =>
        new(name, area, path, executable: false, reason, fix);

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var file = new FileInfo(_path);
        var problem = !file.Exists ? "not found"
            : _executable && (file.UnixFileMode & anyExecute) == 0 ? "is not executable"
            : !_executable && file.Length == 0 ? "is empty"
            : null;
        var result = problem is not null
            ? HostCheckResult.Fail(Name, Area, _reason, $"{_path} {problem}", _fix)
            : HostCheckResult.Ok(Name, Area, _executable ? _path : $"{_path} ({file.Length / 1024} KiB)");
        return Task.FromResult(result);
    }
}
