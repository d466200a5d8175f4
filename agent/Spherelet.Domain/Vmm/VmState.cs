namespace Spherelet.Domain.Vmm;

public enum VmState
{
    Unknown = 0,
    Running,
    Paused,
    Stopped,
    Crashed,
}
