namespace Spherelet.Domain.Sandboxes;

/// <summary>The agent's channels to its pods' guests (CRX), one per pod.</summary>
public interface IPodGuests
{
    /// <summary>Connects to the pod's CRX, waiting while the VM boots, and returns its handshake.</summary>
    /// <exception cref="Errors.GuestUnavailableException">CRX did not answer in time.</exception>
    Task<GuestInfo> ConnectAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Applies hostname and DNS in the VM.</summary>
    Task ConfigureAsync(string sandboxId, GuestSandboxSettings settings, CancellationToken cancellationToken);

    /// <summary>Asks CRX to stop the pod's processes and power the VM off; returns once CRX has taken the request.</summary>
    Task ShutdownAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Connects to a TCP port on the VM's loopback (the pod's network namespace).</summary>
    /// <exception cref="Errors.PreconditionFailedException">Nothing listens there.</exception>
    Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken);

    /// <summary>Forgets the pod's connection (the guest is not told anything).</summary>
    Task CloseAsync(string sandboxId);

    /// <summary>The number of open guest connections.</summary>
    int OpenConnections { get; }
}
