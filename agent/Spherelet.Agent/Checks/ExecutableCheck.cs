using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>A program Spherelet needs is present and executable.</summary>
public sealed class ExecutableCheck : IHostCheck
{
    private readonly string _path;
    private readonly string _reason;
    private readonly string _fix;

    public ExecutableCheck(string name, HealthArea area, string path, string reason, string fix)
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
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var file = new FileInfo(_path);
        var result = !file.Exists
            ? HostCheckResult.Fail(Name, Area, _reason, $"{_path} not found", _fix)
            : (file.UnixFileMode & anyExecute) == 0
                ? HostCheckResult.Fail(Name, Area, _reason, $"{_path} is not executable", _fix)
                : HostCheckResult.Ok(Name, Area, _path);
        return Task.FromResult(result);
    }
}
