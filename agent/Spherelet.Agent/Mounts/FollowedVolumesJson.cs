using System.Text.Json.Serialization;

namespace Spherelet.Agent.Mounts;

/// <summary>Source-generated JSON for what the mounts room records on disk.</summary>
[JsonSerializable(typeof(List<FollowedVolume>))]
internal sealed partial class FollowedVolumesJson : JsonSerializerContext;
