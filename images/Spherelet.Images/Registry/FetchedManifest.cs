namespace Spherelet.Images.Registry;

/// <summary>A manifest as fetched and verified: its digest, exact bytes, parsed content and the endpoint that served it.</summary>
internal sealed record FetchedManifest(string Digest, byte[] Bytes, ParsedManifest Manifest, RegistryEndpoint Endpoint);
