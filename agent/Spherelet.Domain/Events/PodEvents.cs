using Microsoft.Extensions.Logging;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Domain.Events;

/// <summary>
/// The runtime's container and sandbox events for any number of subscribers (CRI's
/// GetContainerEvents), fed by the sandbox and container services as their state changes. Each
/// event carries the pod as it was then. Publishing never waits: a subscriber that falls behind
/// by <see cref="Capacity"/> events is dropped, its stream ends with
/// <see cref="SubscriberTooSlowException"/>, and the runtime goes on.
/// </summary>
public sealed partial class PodEvents
{
    /// <summary>How many events a subscriber may fall behind before it is dropped.</summary>
    public const int Capacity = 1024;

    private readonly SandboxService _sandboxes;
    private readonly ContainerService _containers;
    private readonly TimeProvider _time;
    private readonly ILogger<PodEvents> _logger;
    private readonly Lock _lock = new();
    private readonly List<PodEventSubscription> _subscribers = [];

    public PodEvents(SandboxService sandboxes, ContainerService containers, TimeProvider time, ILogger<PodEvents> logger)
    {
        _sandboxes = sandboxes;
        _containers = containers;
        _time = time;
        _logger = logger;
        sandboxes.SandboxChanged += OnSandboxChanged;
        containers.ContainerChanged += OnContainerChanged;
    }

    /// <summary>How many subscribers there are now.</summary>
    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Events from now on, <paramref name="capacity"/> of them held while the subscriber does not read.</summary>
    public PodEventSubscription Subscribe(int capacity = Capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new PodEventSubscription(capacity, Unsubscribe);
        lock (_lock)
        {
            _subscribers.Add(subscription);
        }

        return subscription;
    }

    /// <summary>Hands <paramref name="podEvent"/> to every subscriber, in the order events are published; drops any that is full.</summary>
    public void Publish(PodEvent podEvent)
    {
        ArgumentNullException.ThrowIfNull(podEvent);
        lock (_lock)
        {
            for (var i = _subscribers.Count - 1; i >= 0; i--)
            {
                if (!_subscribers[i].TryWrite(podEvent))
                {
                    var slow = _subscribers[i];
                    _subscribers.RemoveAt(i);
                    slow.Fail(new SubscriberTooSlowException($"the event subscriber fell {Capacity} events behind and was dropped; subscribe again and list the pods"));
                    LogSubscriberDropped(_subscribers.Count);
                }
            }
        }
    }

    private void Unsubscribe(PodEventSubscription subscription)
    {
        lock (_lock)
        {
            _subscribers.Remove(subscription);
        }
    }

    // The services raise these inside their operations: nothing may escape into them.
    private void OnSandboxChanged(PodSandbox sandbox, PodEventType type) =>
        Guarded(sandbox.Id, () => Publish(new PodEvent(type, sandbox.Id, Now(), sandbox, _containers.ContainersOf(sandbox.Id))));

    private void OnContainerChanged(Container container, PodEventType type) =>
        Guarded(container.Id, () =>
        {
            // A pod's containers are removed before its sandbox, so a container's pod is there to be named.
            if (_sandboxes.Find(container.SandboxId) is { } sandbox)
            {
                Publish(new PodEvent(type, container.Id, Now(), sandbox, _containers.ContainersOf(container.SandboxId)));
            }
        });

    private void Guarded(string id, Action publish)
    {
        try
        {
            publish();
        }
        catch (Exception e) when (e is InvalidOperationException or SphereletException)
        {
            LogEventFailed(id, e.Message);
        }
    }

    private long Now() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    [LoggerMessage(Level = LogLevel.Warning, Message = "event not published id={Id} error={Error}")]
    private partial void LogEventFailed(string id, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "event subscriber dropped for falling behind subscribers={Subscribers}")]
    private partial void LogSubscriberDropped(int subscribers);
}
