namespace Spherelet.Domain.Sandboxes;

/// <summary>How a bind mount on the host may be written.</summary>
public enum BindAccess
{
    /// <summary>Writable.</summary>
    ReadWrite,

    /// <summary>Read-only at its top; mounts under it keep their own access (Kubernetes' <c>readOnly</c>).</summary>
    ReadOnly,

    /// <summary>Read-only with every mount under it (Kubernetes' <c>recursiveReadOnly</c>).</summary>
    RecursiveReadOnly,
}
