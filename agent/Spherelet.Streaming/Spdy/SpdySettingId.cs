namespace Spherelet.Streaming.Spdy;

/// <summary>The settings a SETTINGS frame can carry; only <see cref="InitialWindowSize"/> changes what a connection does.</summary>
public enum SpdySettingId : uint
{
    UploadBandwidth = 1,
    DownloadBandwidth = 2,
    RoundTripTime = 3,
    MaxConcurrentStreams = 4,
    CurrentCwnd = 5,
    DownloadRetransRate = 6,
    InitialWindowSize = 7,
    ClientCertificateVectorSize = 8,
}
