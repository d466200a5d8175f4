using Microsoft.Extensions.Time.Testing;
using Spherelet.Streaming;

namespace Spherelet.Tests.Streaming;

/// <summary>A streaming session is ended once it carried no data for the idle timeout, and not before.</summary>
public sealed class IdleWatchTests
{
    [Fact]
    public async Task A_session_without_data_for_the_timeout_is_cancelled()
    {
        var time = new FakeTimeProvider();
        var watch = new IdleWatch(TimeSpan.FromMinutes(10), time);
        using var session = new CancellationTokenSource();

        var watching = watch.WatchAsync(session, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.False(session.IsCancellationRequested);
        time.Advance(TimeSpan.FromMinutes(1));
        await watching.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(session.IsCancellationRequested);
        Assert.True(watch.Expired);
    }

    [Fact]
    public async Task Data_moves_the_deadline()
    {
        var time = new FakeTimeProvider();
        var watch = new IdleWatch(TimeSpan.FromMinutes(10), time);
        using var session = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();

        var watching = watch.WatchAsync(session, stop.Token);
        time.Advance(TimeSpan.FromMinutes(8));
        watch.Touch();
        time.Advance(TimeSpan.FromMinutes(8));
        await Task.Yield();
        var alive = !session.IsCancellationRequested;
        time.Advance(TimeSpan.FromMinutes(2));
        await watching.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(alive, "16 minutes after the start but 8 after the last data the session still runs");
        Assert.True(session.IsCancellationRequested && watch.Expired);
    }

    [Fact]
    public async Task A_session_that_ends_stops_the_watch_and_is_not_expired()
    {
        var time = new FakeTimeProvider();
        var watch = new IdleWatch(TimeSpan.FromMinutes(10), time);
        using var session = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();

        var watching = watch.WatchAsync(session, stop.Token);
        await stop.CancelAsync();
        await watching.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(session.IsCancellationRequested);
        Assert.False(watch.Expired);
    }

    [Fact]
    public async Task A_zero_timeout_never_ends_a_session()
    {
        var time = new FakeTimeProvider();
        var watch = new IdleWatch(TimeSpan.Zero, time);
        using var session = new CancellationTokenSource();

        await watch.WatchAsync(session, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromDays(30));

        Assert.False(session.IsCancellationRequested || watch.Expired);
    }
}
