namespace Spherelet.Images.Unpacking;

/// <summary>What one layer unpack wrote: entries (files, directories, links, devices, whiteouts) and regular-file bytes.</summary>
public sealed record LayerUnpackResult(long Entries, long Bytes);
