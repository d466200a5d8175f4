using System.Collections.Concurrent;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Sandboxes;

/// <summary>In-memory guests for the sandbox service's unit tests (the real channel is tested with CRX).</summary>
internal sealed class FakeGuests : IPodGuests
{
    public ConcurrentDictionary<string, GuestSandboxSettings?> Connected { get; } = new(StringComparer.Ordinal);

    public List<string> ShutdownRequests { get; } = [];

    public bool Unreachable { get; set; }

    /// <summary>Called when a guest is asked to power off (the fake VMM stops the VM, as a real guest would).</summary>
    public Action<string>? OnShutdown { get; set; }

    public int OpenConnections => Connected.Count;

    public Task<GuestInfo> ConnectAsync(string sandboxId, CancellationToken cancellationToken)
    {
        if (Unreachable)
        {
            throw new GuestUnavailableException($"pod {sandboxId}: the guest did not answer");
        }

        Connected[sandboxId] = null;
        return Task.FromResult(new GuestInfo("1.0.0", "6.1.0", 1234));
    }

    public Task ConfigureAsync(string sandboxId, GuestSandboxSettings settings, CancellationToken cancellationToken)
    {
        Connected[sandboxId] = settings;
        return Task.CompletedTask;
    }

    public Task ShutdownAsync(string sandboxId, CancellationToken cancellationToken)
    {
        lock (ShutdownRequests)
        {
            ShutdownRequests.Add(sandboxId);
        }

        OnShutdown?.Invoke(sandboxId);

        return Task.CompletedTask;
    }

    /// <summary>No server listens in a fake pod.</summary>
    public Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken) =>
        Task.FromException<IPodPortConnection>(new Spherelet.Domain.Errors.PreconditionFailedException($"nothing in the pod accepts connections on port {port}"));

    public Task CloseAsync(string sandboxId)
    {
        Connected.TryRemove(sandboxId, out _);
        return Task.CompletedTask;
    }
}
