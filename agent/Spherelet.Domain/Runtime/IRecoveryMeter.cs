namespace Spherelet.Domain.Runtime;

/// <summary>Told of each leftover the recovery at start (or a recovery deferred until the switch answered) removed.</summary>
public interface IRecoveryMeter
{
    void Removed(LeftoverKind kind);
}
