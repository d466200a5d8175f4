using System.Text.RegularExpressions;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>
/// One setting of libvirt's qemu.conf that Spherelet depends on, found by a pattern: the check
/// warns, naming the fix, when the file says otherwise (or cannot be read).
/// </summary>
public sealed partial class QemuConfCheck : IHostCheck
{
    public const string DefaultPath = "/etc/libvirt/qemu.conf";

    private readonly string _path;
    private readonly Regex _pattern;
    private readonly bool _wanted;
    private readonly string _ok;
    private readonly string _problem;
    private readonly string _fix;

    /// <param name="wanted">True: the setting is right when the pattern is in the file; false: when it is not.</param>
    private QemuConfCheck(string name, string path, Regex pattern, bool wanted, string ok, string problem, string fix)
    {
        Name = name;
        _path = path;
        _pattern = pattern;
        _wanted = wanted;
        _ok = ok;
        _problem = problem;
        _fix = fix;
    }

    public string Name { get; }

    public HealthArea Area => HealthArea.Runtime;

    /// <summary>
    /// libvirt leaves cgroups to Spherelet (<c>cgroup_controllers = [ ]</c>): pod VMs run under the
    /// kubelet's pod cgroups, and a libvirt that manages cgroups itself moves hot-plugged vCPU threads
    /// into its own (refused on cgroup v2, out of the pod's limits on v1).
    /// </summary>
    public static QemuConfCheck CgroupsLeftToSpherelet(string path = DefaultPath) => new(
        "libvirt-cgroups",
        path,
        EmptyCgroupControllers(),
        wanted: true,
        $"libvirt leaves cgroups to Spherelet (cgroup_controllers = [ ] in {path})",
        $"libvirt manages cgroups ({path} has no 'cgroup_controllers = [ ]'): vCPU hot-plug fails on cgroup v2 and escapes the pod's cgroup on v1",
        $"set 'cgroup_controllers = [ ]' in {path} and restart libvirtd (scripts/setup does)");

    /// <summary>
    /// A pod VM's serial console (which its guest can flood) reaches the host through virtlogd, which
    /// rotates it at its max_size: libvirt does so unless qemu.conf sets <c>stdio_handler = "file"</c>,
    /// which has QEMU write the file itself, without bound.
    /// </summary>
    public static QemuConfCheck ConsoleThroughVirtlogd(string path = DefaultPath) => new(
        "console-log",
        path,
        FileStdioHandler(),
        wanted: false,
        "pod consoles go through virtlogd, which rotates them (max_size in virtlogd.conf)",
        $"{path} sets stdio_handler = \"file\": QEMU writes each pod's console.log itself, and a guest can fill the disk with it",
        $"remove stdio_handler from {path} (virtlogd, the default, rotates console logs at 2 MiB) and restart libvirtd");

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = File.ReadAllText(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(HostCheckResult.Warn(Name, Area, $"cannot read {_path}: {e.Message}", $"make {_path} readable to the agent"));
        }

        return Task.FromResult(
            _pattern.IsMatch(text) == _wanted
                ? HostCheckResult.Ok(Name, Area, _ok)
                : HostCheckResult.Warn(Name, Area, _problem, _fix));
    }

    [GeneratedRegex(@"^\s*cgroup_controllers\s*=\s*\[\s*\]\s*$", RegexOptions.Multiline)]
    private static partial Regex EmptyCgroupControllers();

    [GeneratedRegex(@"^\s*stdio_handler\s*=\s*""file""", RegexOptions.Multiline)]
    private static partial Regex FileStdioHandler();
}
