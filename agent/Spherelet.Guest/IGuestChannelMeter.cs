namespace Spherelet.Guest;

/// <summary>What the guest connections tell about their channels.</summary>
public interface IGuestChannelMeter
{
    /// <summary>A keepalive ping was answered after <paramref name="roundTrip"/> (one at connect, then one per keepalive interval).</summary>
    void RoundTrip(TimeSpan roundTrip);
}
