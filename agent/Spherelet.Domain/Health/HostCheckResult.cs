namespace Spherelet.Domain.Health;

/// <summary>
/// What one host check found.
/// </summary>
/// <param name="Name">Short stable name, for example <c>libvirt</c>.</param>
/// <param name="Area">The condition this check feeds.</param>
/// <param name="Outcome">Ok, Warning or Failed.</param>
/// <param name="Detail">What was found, for people.</param>
/// <param name="Reason">A CamelCase reason used in CRI conditions when the check fails.</param>
/// <param name="Fix">What an operator does to mend a failure; empty when the check passed.</param>
public sealed record HostCheckResult(
    string Name,
    HealthArea Area,
    CheckOutcome Outcome,
    string Detail,
    string Reason = "",
    string Fix = "")
{
    public bool Passed => Outcome != CheckOutcome.Failed;

    public static HostCheckResult Ok(string name, HealthArea area, string detail) =>
        new(name, area, CheckOutcome.Ok, detail);

    public static HostCheckResult Warn(string name, HealthArea area, string detail, string fix) =>
        new(name, area, CheckOutcome.Warning, detail, string.Empty, fix);

    public static HostCheckResult Fail(string name, HealthArea area, string reason, string detail, string fix) =>
        new(name, area, CheckOutcome.Failed, detail, reason, fix);
}
