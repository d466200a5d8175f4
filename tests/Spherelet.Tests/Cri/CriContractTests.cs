using Google.Protobuf.Reflection;
using Runtime.V1;

namespace Spherelet.Tests.Cri;

/// <summary>
/// cri/api.proto must stay wire-identical to upstream CRI v1: the descriptors compiled
/// into Spherelet.Cri are walked and compared, element by element, with the list taken
/// from upstream's descriptors (cri/cri-v1.contract.txt).
/// </summary>
public sealed class CriContractTests
{
    [Fact]
    public void Compiled_proto_matches_the_upstream_cri_v1_contract_exactly()
    {
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "cri-v1.contract.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        var actual = ContractLines(ApiReflection.Descriptor.ToProto());

        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        Assert.True(
            missing.Count == 0 && extra.Count == 0,
            $"api.proto drifted from CRI v1.\nmissing or changed:\n  {string.Join("\n  ", missing)}\nnot upstream:\n  {string.Join("\n  ", extra)}");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Contract_covers_both_services_and_every_rpc()
    {
        var proto = ApiReflection.Descriptor.ToProto();
        Assert.Equal("runtime.v1", proto.Package);
        Assert.Equal(["RuntimeService", "ImageService"], proto.Service.Select(s => s.Name));
        Assert.Equal(35, proto.Service[0].Method.Count);
        Assert.Equal(6, proto.Service[1].Method.Count);
    }

    private static List<string> ContractLines(FileDescriptorProto file)
    {
        var lines = new List<string>();
        foreach (var service in file.Service)
        {
            var name = $"{file.Package}.{service.Name}";
            lines.Add($"service {name}");
            foreach (var method in service.Method)
            {
                var input = (method.ClientStreaming ? "stream " : string.Empty) + method.InputType;
                var output = (method.ServerStreaming ? "stream " : string.Empty) + method.OutputType;
                lines.Add($"rpc {name}.{method.Name}({input}) returns ({output})");
            }
        }

        foreach (var message in file.MessageType)
        {
            AddMessage(lines, message, file.Package);
        }

        foreach (var enumType in file.EnumType)
        {
            AddEnum(lines, enumType, file.Package);
        }

        return lines;
    }

    private static void AddMessage(List<string> lines, DescriptorProto message, string prefix)
    {
        var name = $"{prefix}.{message.Name}";
        lines.Add($"message {name}" + (message.Options?.MapEntry == true ? " map_entry" : string.Empty));
        foreach (var field in message.Field)
        {
            var optional = field.Proto3Optional ? " proto3_optional" : string.Empty;
            var oneof = field.HasOneofIndex && !field.Proto3Optional ? $" oneof={field.OneofIndex}" : string.Empty;
            var line = $"field {name}.{field.Name} = {field.Number} {Label(field.Label)} {Type(field.Type)} {field.TypeName}".TrimEnd();
            lines.Add(line + optional + oneof);
        }

        foreach (var nested in message.NestedType)
        {
            AddMessage(lines, nested, name);
        }

        foreach (var enumType in message.EnumType)
        {
            AddEnum(lines, enumType, name);
        }
    }

    private static void AddEnum(List<string> lines, EnumDescriptorProto enumType, string prefix)
    {
        var name = $"{prefix}.{enumType.Name}";
        lines.Add($"enum {name}");
        lines.AddRange(enumType.Value.Select(v => $"value {name}.{v.Name} = {v.Number}"));
    }

    // protoc's text names: TYPE_STRING, LABEL_REPEATED...
    private static string Type(FieldDescriptorProto.Types.Type type) => "TYPE_" + Upper(type.ToString());

    private static string Label(FieldDescriptorProto.Types.Label label) => "LABEL_" + Upper(label.ToString());

    private static string Upper(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
}
