namespace Spherelet.Libvirt;

/// <summary>A version as libvirt encodes it: major * 1,000,000 + minor * 1,000 + release.</summary>
public readonly record struct LibvirtVersion(ulong Encoded)
{
    public ulong Major => Encoded / 1_000_000;

    public ulong Minor => Encoded / 1_000 % 1_000;

    public ulong Release => Encoded % 1_000;

    public override string ToString() => $"{Major}.{Minor}.{Release}";
}
