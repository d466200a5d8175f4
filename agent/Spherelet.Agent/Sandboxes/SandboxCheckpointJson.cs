using System.Text.Json.Serialization;

namespace Spherelet.Agent.Sandboxes;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SandboxCheckpoint))]
internal sealed partial class SandboxCheckpointJson : JsonSerializerContext
{
}
