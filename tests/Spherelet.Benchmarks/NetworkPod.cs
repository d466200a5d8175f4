namespace Spherelet.Benchmarks;

/// <summary>A pod of the network benchmark: its sandbox, its one container (the TCP receiver, where the measuring commands are exec'd) and its address.</summary>
internal sealed record NetworkPod(string PodId, string ContainerId, string Ip);
