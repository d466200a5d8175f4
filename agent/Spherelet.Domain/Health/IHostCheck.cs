namespace Spherelet.Domain.Health;

/// <summary>
/// One real check of a part of the host that Spherelet needs (libvirt, QEMU, OVS, the
/// guest artifacts...). Shared by the CRI Status call and <c>spherelet doctor</c>.
/// A check never throws for a failing part: it returns a Failed result instead.
/// </summary>
public interface IHostCheck
{
    /// <summary>Short stable name, for example <c>libvirt</c>.</summary>
    string Name { get; }

    HealthArea Area { get; }

    Task<HostCheckResult> RunAsync(CancellationToken cancellationToken);
}
