using System.Text.Json.Serialization;

namespace Spherelet.Agent.Containers;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ContainerCheckpoint))]
internal sealed partial class ContainerCheckpointJson : JsonSerializerContext
{
}
