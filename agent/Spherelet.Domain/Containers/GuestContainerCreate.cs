namespace Spherelet.Domain.Containers;

/// <summary>What CRX needs to create a container in the pod VM (every path as the VM sees it).</summary>
/// <param name="Bundle">The bundle directory CRX writes config.json to.</param>
/// <param name="Spec">The OCI runtime spec, JSON.</param>
/// <param name="LayerDirectories">The image layers of the overlay root file system, bottom first.</param>
/// <param name="LogSpoolBytes">CRX keeps the output in a log spool of this many bytes for the host to write the CRI log from; 0 for no log.</param>
public sealed record GuestContainerCreate(
    string ContainerId,
    string Bundle,
    ReadOnlyMemory<byte> Spec,
    IReadOnlyList<string> LayerDirectories,
    bool Tty,
    bool Stdin,
    bool StdinOnce,
    long LogSpoolBytes);
