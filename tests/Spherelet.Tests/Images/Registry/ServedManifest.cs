namespace Spherelet.Tests.Images.Registry;

/// <summary>What the fake registry answers for one manifest path: the bytes, their Content-Type, and the Docker-Content-Digest it announces.</summary>
internal sealed record ServedManifest(byte[] Content, string MediaType, string? AnnouncedDigest);
