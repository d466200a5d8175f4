namespace Spherelet.Domain.Containers;

/// <summary>A computed OCI runtime spec: the whole (JSON), and the parts the agent keeps.</summary>
/// <param name="Json">The spec, as CRX writes it to config.json.</param>
/// <param name="ProcessJson">Its <c>process</c> object: the template of the container's execs.</param>
/// <param name="ResourcesJson">Its <c>linux.resources</c> object.</param>
public sealed record ContainerSpec(ReadOnlyMemory<byte> Json, string ProcessJson, string ResourcesJson);
