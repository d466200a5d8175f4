namespace Spherelet.Images;

/// <summary>An OCI content descriptor: what a blob is, its digest (<c>sha256:HEX</c>) and size in bytes.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size);
