using Spherelet.Cri;

namespace Spherelet.Tests.Cri;

/// <summary>usage_nano_cores from two samples of cumulative CPU time.</summary>
public sealed class CpuRatesTests
{
    [Fact]
    public void The_rate_is_cpu_time_over_wall_time_between_two_samples()
    {
        var rates = new CpuRates();

        Assert.Null(rates.Sample("c", 1_000_000_000, 10_000_000_000));
        // Half a CPU second over two seconds: a quarter of a core.
        Assert.Equal(250_000_000UL, rates.Sample("c", 1_500_000_000, 12_000_000_000));
        Assert.Null(rates.Sample("other", 5, 12_000_000_000));
    }

    [Fact]
    public void A_counter_that_went_back_starts_anew_and_forgotten_ids_have_no_rate()
    {
        var rates = new CpuRates();
        rates.Sample("c", 2_000_000_000, 10_000_000_000);

        Assert.Null(rates.Sample("c", 1_000_000_000, 20_000_000_000)); // the container's cgroup was made anew
        // One CPU second over ten: a tenth of a core.
        Assert.Equal(100_000_000UL, rates.Sample("c", 2_000_000_000, 30_000_000_000));
        rates.Retain(new HashSet<string>());
        Assert.Null(rates.Sample("c", 3_000_000_000, 40_000_000_000));
    }
}
