namespace Spherelet.Cri.Oci;

/// <summary>A mount the caller resolved for the container: its source as the guest sees it.</summary>
public sealed record OciMount(string Destination, string Source, bool ReadOnly, string Propagation = "rprivate");
