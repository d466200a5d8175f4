namespace Spherelet.Streaming.Spdy;

/// <summary>One entry of a SETTINGS frame: a 24-bit id, its flags (0x1 persist value, 0x2 persisted) and a 32-bit value.</summary>
public readonly record struct SpdySetting(SpdySettingId Id, uint Value, byte Flags = 0);
