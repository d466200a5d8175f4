namespace Spherelet.Domain.Health;

/// <summary>The results of every host check, taken together at one moment.</summary>
public sealed class HostHealthReport
{
    public const string RuntimeReady = "RuntimeReady";
    public const string NetworkReady = "NetworkReady";

    public HostHealthReport(IReadOnlyList<HostCheckResult> results, DateTimeOffset takenAt)
    {
        ArgumentNullException.ThrowIfNull(results);
        Results = results;
        TakenAt = takenAt;
    }

    public IReadOnlyList<HostCheckResult> Results { get; }

    public DateTimeOffset TakenAt { get; }

    /// <summary>True when no check failed, whatever its area.</summary>
    public bool AllPassed => Results.All(r => r.Passed);

    /// <summary>RuntimeReady and NetworkReady, each false with the reasons of the checks that failed.</summary>
    public IReadOnlyList<HealthCondition> Conditions() =>
    [
        ConditionFor(RuntimeReady, HealthArea.Runtime),
        ConditionFor(NetworkReady, HealthArea.Network),
    ];

    private HealthCondition ConditionFor(string type, HealthArea area)
    {
        var failed = Results.Where(r => r.Area == area && !r.Passed).ToList();
        if (failed.Count == 0)
        {
            return new HealthCondition(type, true, string.Empty, string.Empty);
        }

        var reason = failed.Count == 1 ? failed[0].Reason : string.Join(",", failed.Select(f => f.Reason));
        var message = string.Join("; ", failed.Select(f => $"{f.Name}: {f.Detail}"));
        return new HealthCondition(type, false, reason, message);
    }
}
