using System.Threading.Channels;

namespace Spherelet.Domain.Events;

/// <summary>One subscriber's events, in the order they happened; disposing it unsubscribes.</summary>
public sealed class PodEventSubscription : IDisposable
{
    private readonly Channel<PodEvent> _channel;
    private readonly Action<PodEventSubscription> _unsubscribe;

    internal PodEventSubscription(int capacity, Action<PodEventSubscription> unsubscribe)
    {
        _channel = Channel.CreateBounded<PodEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
        _unsubscribe = unsubscribe;
    }

    /// <summary>
    /// The events. Reading ends with <see cref="Errors.SubscriberTooSlowException"/> when the
    /// subscriber fell behind by the hub's capacity and was dropped.
    /// </summary>
    public ChannelReader<PodEvent> Reader => _channel.Reader;

    /// <summary>Hands an event over without waiting; false when the subscriber is that far behind.</summary>
    internal bool TryWrite(PodEvent podEvent) => _channel.Writer.TryWrite(podEvent);

    internal void Fail(Exception error) => _channel.Writer.TryComplete(error);

    public void Dispose()
    {
        _channel.Writer.TryComplete();
        _unsubscribe(this);
    }
}
