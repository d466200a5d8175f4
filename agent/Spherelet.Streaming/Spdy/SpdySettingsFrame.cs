namespace Spherelet.Streaming.Spdy;

/// <summary>SETTINGS: values the sender asks the receiver to use; <paramref name="ClearSettings"/> is FLAG_SETTINGS_CLEAR_SETTINGS.</summary>
public sealed record SpdySettingsFrame(IReadOnlyList<SpdySetting> Settings, bool ClearSettings = false) : SpdyFrame;
