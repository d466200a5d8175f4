using System.Text.Json.Serialization;

namespace Spherelet.Images.Store;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ImageRecordFile))]
internal sealed partial class ImageRecordJson : JsonSerializerContext
{
}
