namespace Spherelet.Crx.Protocol;

/// <summary>
/// OCI spec annotations by which the agent asks CRX for work before a container is created: both
/// sides of the host-guest contract read these names from here. A CRI request may not carry them.
/// </summary>
public static class SpecAnnotations
{
    /// <summary>Every annotation of this contract starts so; the agent refuses requests that carry one.</summary>
    public const string Prefix = "io.spherelet.";

    /// <summary>A hot-plugged disk to find by its serial: this prefix, then the container path; the value is <c>SERIAL:PERMISSIONS</c>.</summary>
    public const string BlockDevicePrefix = Prefix + "block-device/";

    /// <summary>How many 2 MiB hugepages the pod needs in all: CRX makes that many in the VM first.</summary>
    public const string Hugepages2MB = Prefix + "hugepages-2MB";
}
