using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Containers;

/// <summary>Host device nodes for the container service's unit tests: the paths named block devices, with what they resolve to.</summary>
internal sealed class FakeHostDevices : IHostDevices
{
    public Dictionary<string, string> BlockDevices { get; } = new(StringComparer.Ordinal);

    public string? ResolveBlockDevice(string path) => BlockDevices.TryGetValue(path, out var resolved) ? resolved : null;
}
