using System.Text.Json.Serialization;

namespace Spherelet.Agent.Network;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(NetworkAllocationsFile))]
internal sealed partial class NetworkAllocationsJson : JsonSerializerContext
{
}
