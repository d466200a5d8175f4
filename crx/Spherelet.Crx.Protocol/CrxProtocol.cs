namespace Spherelet.Crx.Protocol;

/// <summary>Constants both sides of the host-guest channel agree on.</summary>
public static class CrxProtocol
{
    /// <summary>The protocol version; a peer speaking another one is refused at Hello.</summary>
    public const uint Version = 2;

    /// <summary>The largest frame either side sends or accepts.</summary>
    public const int MaxFrameBytes = 4 * 1024 * 1024;

    /// <summary>The virtio-serial port name (libvirt channel target) CRX listens on.</summary>
    public const string DefaultChannelName = "io.spherelet.crx.0";

    /// <summary>Error codes carried in Response.error.code.</summary>
    public static class Codes
    {
        public const string InvalidArgument = "INVALID_ARGUMENT";
        public const string NotFound = "NOT_FOUND";
        public const string AlreadyExists = "ALREADY_EXISTS";
        public const string FailedPrecondition = "FAILED_PRECONDITION";
        public const string Unavailable = "UNAVAILABLE";
        public const string Unimplemented = "UNIMPLEMENTED";
        public const string Internal = "INTERNAL";
        public const string VersionMismatch = "VERSION_MISMATCH";
        public const string MalformedFrame = "MALFORMED_FRAME";
        public const string FrameTooLarge = "FRAME_TOO_LARGE";
    }
}
