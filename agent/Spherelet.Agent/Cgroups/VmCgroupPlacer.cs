using System.Globalization;
using System.Text;
using CliWrap;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;
using Spherelet.Domain.Vmm;

namespace Spherelet.Agent.Cgroups;

/// <summary>
/// Puts a pod VM's processes under the kubelet's cgroup for the pod, in a leaf of their own.
/// cgroupfs driver: <c>PARENT/spherelet-VM</c> is made in every mounted hierarchy (v1 and v2) and
/// QEMU's process (all its threads) is moved there while its vCPUs are still paused, so nearly all
/// its memory is charged there. systemd driver: a transient scope <c>spherelet-VM.scope</c> in the
/// pod's slice, asked of systemd over D-Bus (busctl), with the process in it.
/// libvirt must leave cgroups alone (qemu.conf <c>cgroup_controllers = [ ]</c>, set by scripts/setup):
/// it would otherwise move hot-plugged vCPU threads into cgroups of its own.
/// </summary>
public sealed partial class VmCgroupPlacer : IVmCgroups
{
    private readonly ILogger<VmCgroupPlacer> _logger;
    private readonly string _mountinfoPath;
    private readonly string _procDirectory;
    private readonly Action<string>? _directoryMade;

    public VmCgroupPlacer(ILogger<VmCgroupPlacer> logger)
        : this(logger, "/proc/self/mountinfo", "/proc")
    {
    }

    /// <param name="directoryMade">Called with each cgroup directory made (tests on plain directories give it the files the kernel would).</param>
    internal VmCgroupPlacer(ILogger<VmCgroupPlacer> logger, string mountinfoPath, string procDirectory, Action<string>? directoryMade = null)
    {
        _logger = logger;
        _mountinfoPath = mountinfoPath;
        _procDirectory = procDirectory;
        _directoryMade = directoryMade;
    }

    /// <summary>Moves process <paramref name="pid"/> (with every thread) into the VM's cgroup under <see cref="VmCgroup.Parent"/>, with its CPU weight and cpusets.</summary>
    /// <exception cref="VmmOperationFailedException">The cgroup could not be made or the process not moved.</exception>
    public async Task PlaceAsync(int pid, string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var path = LeafPath(vmName, cgroup);
        try
        {
            if (cgroup.Driver == CgroupDriver.Systemd)
            {
                await StartScopeAsync(pid, vmName, cgroup, cancellationToken);
                ApplyToExisting(path, cgroup);
            }
            else
            {
                foreach (var hierarchy in Hierarchies())
                {
                    if (hierarchy.Directory(path) is not { } directory)
                    {
                        continue;
                    }

                    EnsureDirectory(hierarchy, directory);
                    ApplyLimits(hierarchy, directory, cgroup);
                    File.WriteAllText(Path.Combine(directory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VmmOperationFailedException($"cannot put {vmName} (pid {pid}) into cgroup {path}: {e.Message}", e);
        }

        LogPlaced(vmName, pid, path, cgroup.CpuShares);
    }

    /// <summary>Applies new cpusets (and the weight) to a placed VM's cgroup.</summary>
    public void Update(string vmName, VmCgroup cgroup)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var path = LeafPath(vmName, cgroup);
        try
        {
            ApplyToExisting(path, cgroup);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VmmOperationFailedException($"cannot update cgroup {path} of {vmName}: {e.Message}", e);
        }
    }

    /// <summary>Removes the VM's cgroup once its processes are gone (waits up to 5 s for them to leave). Removing a missing one succeeds.</summary>
    public async Task RemoveAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var path = LeafPath(vmName, cgroup);
        if (cgroup.Driver == CgroupDriver.Systemd)
        {
            // A scope ends by itself once empty; stopping it covers one that still holds a straggler.
            await BusctlAsync(["call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "StopUnit", "ss", ScopeName(vmName), "fail"], ignoreFailure: true, cancellationToken);
            return;
        }

        foreach (var hierarchy in Hierarchies())
        {
            if (hierarchy.Directory(path) is not { } directory)
            {
                continue;
            }

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (System.IO.Directory.Exists(directory))
                    {
                        System.IO.Directory.Delete(directory);
                    }

                    break;
                }
                catch (IOException) when (attempt < 50)
                {
                    await Task.Delay(100, cancellationToken);
                }
                catch (IOException e)
                {
                    LogRemoveFailed(vmName, directory, e.Message);
                    break;
                }
            }
        }
    }

    /// <summary>The cgroup path (from the hierarchy root) of a process in the unified hierarchy, or else in the v1 <c>cpu</c> one; null when it is gone.</summary>
    public string? CgroupOf(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(_procDirectory, pid.ToString(CultureInfo.InvariantCulture), "cgroup"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseProcCgroup(text);
    }

    /// <summary>
    /// The VM's cgroup path from the hierarchy root: <c>PARENT/spherelet-VM</c>, or for systemd the
    /// scope inside the pod's slice (<c>/kubepods.slice/.../POD.slice/spherelet-VM.scope</c>).
    /// </summary>
    public static string LeafPath(string vmName, VmCgroup cgroup)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var parent = cgroup.Driver == CgroupDriver.Systemd && !cgroup.Parent.StartsWith('/') ? SystemdSlices.CgroupPath(cgroup.Parent) : cgroup.Parent;
        return parent.TrimEnd('/') + "/" + VmCgroup.LeafName(vmName, cgroup.Driver);
    }

    /// <summary>The v2 path in a <c>/proc/PID/cgroup</c> text, or the v1 <c>cpu</c> controller's where there is no v2 path below the root.</summary>
    internal static string? ParseProcCgroup(string text)
    {
        string? unified = null;
        string? cpu = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            if (parts[0] == "0" && parts[1].Length == 0)
            {
                unified = parts[2];
            }
            else if (parts[1].Split(',').Contains("cpu", StringComparer.Ordinal))
            {
                cpu = parts[2];
            }
        }

        return unified is not null and not "/" ? unified : cpu ?? unified;
    }

    /// <summary>cgroup v1 shares (2..262144) as a cgroup v2 weight (1..10000), as runc and the kubelet convert them.</summary>
    internal static long SharesToWeight(long shares) => 1 + ((Math.Clamp(shares, 2, 262144) - 2) * 9999 / 262142);

    private static string ScopeName(string vmName) => VmCgroup.LeafName(vmName, CgroupDriver.Systemd);

    private IReadOnlyList<CgroupHierarchy> Hierarchies() => CgroupHierarchy.Parse(File.ReadAllText(_mountinfoPath));

    /// <summary>Applies the weight and cpusets to the VM's cgroup in each hierarchy where it exists.</summary>
    private void ApplyToExisting(string path, VmCgroup cgroup)
    {
        foreach (var hierarchy in Hierarchies())
        {
            if (hierarchy.Directory(path) is { } directory && System.IO.Directory.Exists(directory))
            {
                ApplyLimits(hierarchy, directory, cgroup);
            }
        }
    }

    /// <summary>Makes the directory and any missing parent; a new v1 cpuset takes its parent's CPUs and memory nodes (empty ones refuse tasks).</summary>
    private void EnsureDirectory(CgroupHierarchy hierarchy, string directory)
    {
        var missing = new Stack<string>();
        for (var d = directory; !System.IO.Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            missing.Push(d);
        }

        while (missing.TryPop(out var d))
        {
            System.IO.Directory.CreateDirectory(d);
            _directoryMade?.Invoke(d);
            if (hierarchy.Has("cpuset"))
            {
                foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
                {
                    var own = Path.Combine(d, file);
                    if (File.Exists(own) && File.ReadAllText(own).Trim().Length == 0)
                    {
                        File.WriteAllText(own, File.ReadAllText(Path.Combine(Path.GetDirectoryName(d)!, file)).Trim());
                    }
                }
            }
        }
    }

    private static void ApplyLimits(CgroupHierarchy hierarchy, string directory, VmCgroup cgroup)
    {
        if (cgroup.CpuShares > 0)
        {
            WriteIfPresent(directory, hierarchy.Unified ? "cpu.weight" : hierarchy.Has("cpu") ? "cpu.shares" : null,
                (hierarchy.Unified ? SharesToWeight(cgroup.CpuShares) : cgroup.CpuShares).ToString(CultureInfo.InvariantCulture));
        }

        if (hierarchy.Unified || hierarchy.Has("cpuset"))
        {
            // Memory nodes first: a v1 cpuset needs both set before it takes tasks. An empty set means
            // any: v2 then inherits (empty), v1 takes its parent's.
            foreach (var (file, value) in new[] { ("cpuset.mems", cgroup.CpusetMems), ("cpuset.cpus", cgroup.CpusetCpus) })
            {
                var parent = Path.Combine(Path.GetDirectoryName(directory)!, file);
                WriteIfPresent(directory, file, value.Length > 0 || hierarchy.Unified || !File.Exists(parent) ? value : File.ReadAllText(parent).Trim());
            }
        }
    }

    private static void WriteIfPresent(string directory, string? file, string value)
    {
        if (file is not null && File.Exists(Path.Combine(directory, file)))
        {
            File.WriteAllText(Path.Combine(directory, file), value);
        }
    }

    /// <summary>Asks systemd for a transient scope in the pod's slice holding the process (as runc's systemd driver does).</summary>
    private async Task StartScopeAsync(int pid, string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        var arguments = new List<string>
        {
            "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "StartTransientUnit",
            "ssa(sv)a(sa(sv))", ScopeName(vmName), "fail",
        };
        List<string[]> properties =
        [
            ["Description", "s", $"Spherelet pod VM {vmName}"],
            ["Slice", "s", cgroup.Parent.Split('/')[^1]],
            ["PIDs", "au", "1", pid.ToString(CultureInfo.InvariantCulture)],
            ["Delegate", "b", "true"],
        ];
        if (cgroup.CpuShares > 0)
        {
            properties.Add(["CPUWeight", "t", SharesToWeight(cgroup.CpuShares).ToString(CultureInfo.InvariantCulture)]);
        }

        arguments.Add(properties.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var property in properties)
        {
            arguments.AddRange(property);
        }

        arguments.Add("0");
        await BusctlAsync(arguments, ignoreFailure: false, cancellationToken);

        // The job runs asynchronously: wait until the process is in the scope.
        var scope = LeafPath(vmName, cgroup);
        for (var i = 0; i < 50; i++)
        {
            if (CgroupOf(pid) is { } now && now.EndsWith("/" + ScopeName(vmName), StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new VmmOperationFailedException($"systemd did not move {vmName} (pid {pid}) into {scope} within 5 s");
    }

    private static async Task BusctlAsync(IReadOnlyList<string> arguments, bool ignoreFailure, CancellationToken cancellationToken)
    {
        var stderr = new StringBuilder();
        try
        {
            var result = await CliWrap.Cli.Wrap("busctl")
                .WithArguments(arguments)
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(cancellationToken);
            if (result.ExitCode != 0 && !ignoreFailure)
            {
                throw new VmmOperationFailedException($"systemd refused the pod VM's scope (busctl exit code {result.ExitCode}): {stderr.ToString().Trim()}");
            }
        }
        catch (System.ComponentModel.Win32Exception e) when (!ignoreFailure)
        {
            throw new VmmOperationFailedException($"busctl cannot be run (the systemd cgroup driver needs systemd): {e.Message}", e);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "vm cgroup vm={VmName} pid={Pid} cgroup={Cgroup} cpu_shares={CpuShares}")]
    private partial void LogPlaced(string vmName, int pid, string cgroup, long cpuShares);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vm cgroup not removed vm={VmName} directory={Directory}: {Error}")]
    private partial void LogRemoveFailed(string vmName, string directory, string error);
}
