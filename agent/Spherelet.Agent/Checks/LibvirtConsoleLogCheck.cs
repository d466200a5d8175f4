using System.Text.RegularExpressions;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>
/// A pod VM's serial console (which its guest can flood) reaches the host through virtlogd, which
/// rotates it at its max_size: libvirt does so unless qemu.conf sets <c>stdio_handler = "file"</c>,
/// which has QEMU write the file itself, without bound.
/// </summary>
public sealed partial class LibvirtConsoleLogCheck : IHostCheck
{
    private readonly string _qemuConf;

    public LibvirtConsoleLogCheck(string qemuConf = QemuConf.DefaultPath)
    {
        _qemuConf = qemuConf;
    }

    public string Name => "console-log";

    public HealthArea Area => HealthArea.Runtime;

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var (text, unreadable) = QemuConf.Read(_qemuConf, Name, Area);
        if (text is null)
        {
            return Task.FromResult(unreadable!);
        }

        return Task.FromResult(
            FileHandler().IsMatch(text)
                ? HostCheckResult.Warn(
                    Name,
                    Area,
                    $"{_qemuConf} sets stdio_handler = \"file\": QEMU writes each pod's console.log itself, and a guest can fill the disk with it",
                    $"remove stdio_handler from {_qemuConf} (virtlogd, the default, rotates console logs at 2 MiB) and restart libvirtd")
                : HostCheckResult.Ok(Name, Area, "pod consoles go through virtlogd, which rotates them (max_size in virtlogd.conf)"));
    }

    [GeneratedRegex(@"^\s*stdio_handler\s*=\s*""file""", RegexOptions.Multiline)]
    private static partial Regex FileHandler();
}
