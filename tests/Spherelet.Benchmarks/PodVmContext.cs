using System.Diagnostics;
using Runtime.V1;

namespace Spherelet.Benchmarks;

/// <summary>What a benchmark body gets from <see cref="PodVmSession"/>: the daemon, its runtime service, the pulled image and the session's directory.</summary>
internal sealed record PodVmContext(Process Daemon, RuntimeService.RuntimeServiceClient Runtime, ImageSpec Image, string Directory);
