using Spherelet.Domain.Health;

namespace Spherelet.Tests.Domain;

public sealed class HostHealthTests
{
    [Fact]
    public async Task A_check_that_hangs_is_reported_as_timed_out_and_the_others_still_report()
    {
        var health = new HostHealth([new HangingCheck(), new PassingCheck()], TimeProvider.System, TimeSpan.FromMilliseconds(100));

        var report = await health.CheckAsync(CancellationToken.None);

        Assert.Equal(CheckOutcome.Failed, report.Results[0].Outcome);
        Assert.Equal("CheckTimedOut", report.Results[0].Reason);
        Assert.Equal(CheckOutcome.Ok, report.Results[1].Outcome);
        Assert.False(report.AllPassed);
    }

    [Fact]
    public async Task A_check_that_throws_is_reported_as_failed_instead_of_failing_the_call()
    {
        var health = new HostHealth([new ThrowingCheck()], TimeProvider.System, TimeSpan.FromSeconds(5));

        var result = Assert.Single((await health.CheckAsync(CancellationToken.None)).Results);

        Assert.Equal("CheckError", result.Reason);
        Assert.Equal("probe broke", result.Detail);
    }

    private sealed class HangingCheck : IHostCheck
    {
        public string Name => "hangs";

        public HealthArea Area => HealthArea.Runtime;

        public async Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class PassingCheck : IHostCheck
    {
        public string Name => "passes";

        public HealthArea Area => HealthArea.Network;

        public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken) =>
            Task.FromResult(HostCheckResult.Ok(Name, Area, "fine"));
    }

    private sealed class ThrowingCheck : IHostCheck
    {
        public string Name => "throws";

        public HealthArea Area => HealthArea.Runtime;

        public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("probe broke");
    }
}
