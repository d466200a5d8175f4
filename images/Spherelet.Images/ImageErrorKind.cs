namespace Spherelet.Images;

/// <summary>What went wrong with an image operation, for callers to map (the CRI layer maps these to gRPC codes).</summary>
public enum ImageErrorKind
{
    /// <summary>A reference, digest, manifest or layer that can never be valid (InvalidArgument).</summary>
    Invalid,

    /// <summary>The image, tag, manifest or blob does not exist (NotFound).</summary>
    NotFound,

    /// <summary>The registry refused the credentials, or wants some (PermissionDenied / Unauthenticated).</summary>
    Unauthorized,

    /// <summary>Content did not match its digest or size (DataLoss).</summary>
    DigestMismatch,

    /// <summary>The registry could not be reached or kept failing (Unavailable).</summary>
    Unavailable,

    /// <summary>The operation is not allowed in the current state, e.g. removing an image in use (FailedPrecondition).</summary>
    InUse,
}
