namespace Spherelet.Domain.Health;

/// <summary>Runs every registered host check concurrently and gathers a report.</summary>
public sealed class HostHealth
{
    private readonly IReadOnlyList<IHostCheck> _checks;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    public HostHealth(IEnumerable<IHostCheck> checks, TimeProvider time, TimeSpan timeoutPerCheck)
    {
        ArgumentNullException.ThrowIfNull(checks);
        _checks = checks.ToList();
        _time = time;
        _timeout = timeoutPerCheck;
    }

    public IReadOnlyList<IHostCheck> Checks => _checks;

    public async Task<HostHealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(_checks.Select(c => RunOneAsync(c, cancellationToken)));
        return new HostHealthReport(results, _time.GetUtcNow());
    }

    private async Task<HostCheckResult> RunOneAsync(IHostCheck check, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        try
        {
            return await check.RunAsync(cts.Token).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HostCheckResult.Fail(
                check.Name,
                check.Area,
                "CheckTimedOut",
                $"no answer within {_timeout.TotalSeconds:0.#} s",
                "see the logs of the part this check probes");
        }
#pragma warning disable CA1031 // A check must report, never throw, whatever went wrong inside it.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return HostCheckResult.Fail(check.Name, check.Area, "CheckError", e.Message, "see the agent's logs");
        }
    }
}
