using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// What reading one frame gave: a frame, a frame that was skipped because it was bad
/// (the stream stays usable: the next frame starts right after it), or the end of the stream.
/// </summary>
public readonly record struct FrameReadResult(Frame? Frame, string? ErrorCode, string? ErrorMessage)
{
    public bool EndOfStream => Frame is null && ErrorCode is null;

    public static FrameReadResult End => default;

    public static FrameReadResult Bad(string code, string message) => new(null, code, message);
}
