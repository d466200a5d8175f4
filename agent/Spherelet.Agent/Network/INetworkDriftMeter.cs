namespace Spherelet.Agent.Network;

/// <summary>What the periodic network repair tells about the drift it finds and puts right.</summary>
public interface INetworkDriftMeter
{
    /// <summary>The switch or the host's rules differ from the allocations in this way.</summary>
    void Found(DriftFinding finding);

    /// <summary>What was found has been put back.</summary>
    void Repaired(DriftFinding finding);
}
