using Spherelet.Agent.Checks;
using Spherelet.Agent.Options;
using Spherelet.Agent.Virtualization;
using Spherelet.Libvirt.Vmm;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Cli;

/// <summary>
/// <c>spherelet doctor</c>: runs every host check and prints one line per check, with the
/// fix under each failure. Exit code 0 when nothing failed (warnings allowed), 1 otherwise.
/// </summary>
public static class DoctorCommand
{
    public static async Task<int> RunAsync(SphereletOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var libvirt = new LibvirtConnector(options.LibvirtUri, Microsoft.Extensions.Logging.Abstractions.NullLogger<LibvirtConnector>.Instance);
        var health = new HostHealth(HostChecks.Create(options, libvirt, beforeStart: true), TimeProvider.System, TimeSpan.FromSeconds(10));
        var report = await health.CheckAsync(cancellationToken);
        await output.WriteLineAsync(Format(report));
        return report.AllPassed ? 0 : 1;
    }

    /// <summary>The report as people read it: a line per check, a fix line under each problem, a summary.</summary>
    public static string Format(HostHealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var width = report.Results.Max(r => r.Name.Length);
        var text = new System.Text.StringBuilder();
        foreach (var result in report.Results)
        {
            var label = result.Outcome switch
            {
                CheckOutcome.Ok => "ok  ",
                CheckOutcome.Warning => "warn",
                _ => "FAIL",
            };
            text.Append(label).Append("  ").Append(result.Name.PadRight(width)).Append("  ").AppendLine(result.Detail);
            if (result.Outcome != CheckOutcome.Ok && result.Fix.Length > 0)
            {
                text.Append(' ', 6 + width).Append("  fix: ").AppendLine(result.Fix);
            }
        }

        var failed = report.Results.Count(r => r.Outcome == CheckOutcome.Failed);
        var warned = report.Results.Count(r => r.Outcome == CheckOutcome.Warning);
        text.Append(failed == 0 ? "host ready" : "host NOT ready")
            .Append(": ").Append(report.Results.Count - failed - warned).Append(" ok, ")
            .Append(warned).Append(" warning(s), ").Append(failed).Append(" failed");
        return text.ToString();
    }
}
