using System.Text.Json.Serialization;

namespace Spherelet.Agent.Node;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(NodeCheckpoint))]
internal sealed partial class NodeCheckpointJson : JsonSerializerContext
{
}
