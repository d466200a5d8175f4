namespace Spherelet.Libvirt;

/// <summary>A libvirt call failed; carries libvirt's error code and domain (virErrorNumber, virErrorDomain).</summary>
public sealed class LibvirtException : Exception
{
    public LibvirtException(int code, int errorDomain, string message)
        : base(message)
    {
        Code = code;
        ErrorDomain = errorDomain;
    }

    /// <summary>libvirt's <c>virErrorNumber</c>, 0 when libvirt gave none.</summary>
    public int Code { get; }

    /// <summary>libvirt's <c>virErrorDomain</c> (which part of libvirt failed).</summary>
    public int ErrorDomain { get; }
}
