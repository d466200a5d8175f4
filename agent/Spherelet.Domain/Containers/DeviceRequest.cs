namespace Spherelet.Domain.Containers;

/// <summary>A host device a container asks for (CRI <c>devices</c>): where it appears and with what access (<c>rwm</c> letters).</summary>
public sealed record DeviceRequest(string HostPath, string ContainerPath, string Permissions);
