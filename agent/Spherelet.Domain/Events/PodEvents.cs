using System.Collections.Concurrent;
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

    /// <summary>The last sandbox seen of each pod, for a container event that comes after its sandbox was removed.</summary>
    private readonly ConcurrentDictionary<string, PodSandbox> _lastSandboxes = new(StringComparer.Ordinal);

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

    private void OnSandboxChanged(PodSandbox sandbox, PodEventType type)
    {
        if (type == PodEventType.Deleted)
        {
            _lastSandboxes.TryRemove(sandbox.Id, out _);
        }
        else
        {
            _lastSandboxes[sandbox.Id] = sandbox;
        }

        Publish(new PodEvent(type, sandbox.Id, Now(), sandbox, _containers.ContainersOf(sandbox.Id)));
    }

    private void OnContainerChanged(Container container, PodEventType type)
    {
        var sandbox = _sandboxes.Find(container.SandboxId);
        if (sandbox is null && !_lastSandboxes.TryGetValue(container.SandboxId, out sandbox))
        {
            return; // its pod is gone and was never seen: the kubelet could not place the event
        }

        Publish(new PodEvent(type, container.Id, Now(), sandbox, _containers.ContainersOf(container.SandboxId)));
    }

    private long Now() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    [LoggerMessage(Level = LogLevel.Warning, Message = "event subscriber dropped for falling behind subscribers={Subscribers}")]
    private partial void LogSubscriberDropped(int subscribers);
}
