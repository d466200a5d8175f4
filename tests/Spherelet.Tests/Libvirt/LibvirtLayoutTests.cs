using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Spherelet.Libvirt;
using Spherelet.Libvirt.Native;

namespace Spherelet.Tests.Libvirt;

/// <summary>
/// The binding's structs and constants against the installed libvirt headers: each test
/// writes a C program that prints the header's sizes, offsets and values, compiles it with
/// <c>cc</c>, runs it, and compares (the way Tmds.LibC checks its structs). Needs gcc and
/// libvirt-dev.
/// </summary>
public sealed class LibvirtLayoutTests
{
    [Fact]
    public void Domain_info_struct_matches_the_libvirt_header() =>
        AssertMatchesHeader(
        [
            ("sizeof(virDomainInfo)", Marshal.SizeOf<VirDomainInfo>()),
            .. Field<VirDomainInfo>("virDomainInfo", "state", nameof(VirDomainInfo.State)),
            .. Field<VirDomainInfo>("virDomainInfo", "maxMem", nameof(VirDomainInfo.MaxMem)),
            .. Field<VirDomainInfo>("virDomainInfo", "memory", nameof(VirDomainInfo.Memory)),
            .. Field<VirDomainInfo>("virDomainInfo", "nrVirtCpu", nameof(VirDomainInfo.NrVirtCpu)),
            .. Field<VirDomainInfo>("virDomainInfo", "cpuTime", nameof(VirDomainInfo.CpuTime)),
        ]);

    [Fact]
    public void Error_struct_matches_the_libvirt_header() =>
        AssertMatchesHeader(
        [
            ("sizeof(virError)", Marshal.SizeOf<VirError>()),
            .. Field<VirError>("virError", "code", nameof(VirError.Code)),
            .. Field<VirError>("virError", "domain", nameof(VirError.Domain)),
            .. Field<VirError>("virError", "message", nameof(VirError.Message)),
            .. Field<VirError>("virError", "level", nameof(VirError.Level)),
            .. Field<VirError>("virError", "conn", nameof(VirError.Conn)),
            .. Field<VirError>("virError", "dom", nameof(VirError.Dom)),
            .. Field<VirError>("virError", "str1", nameof(VirError.Str1)),
            .. Field<VirError>("virError", "str2", nameof(VirError.Str2)),
            .. Field<VirError>("virError", "str3", nameof(VirError.Str3)),
            .. Field<VirError>("virError", "int1", nameof(VirError.Int1)),
            .. Field<VirError>("virError", "int2", nameof(VirError.Int2)),
            .. Field<VirError>("virError", "net", nameof(VirError.Net)),
        ]);

    [Fact]
    public void Domain_states_have_the_values_of_virDomainState() =>
        AssertEnumMatchesHeader(new Dictionary<DomainState, string>
        {
            [DomainState.NoState] = "VIR_DOMAIN_NOSTATE",
            [DomainState.Running] = "VIR_DOMAIN_RUNNING",
            [DomainState.Blocked] = "VIR_DOMAIN_BLOCKED",
            [DomainState.Paused] = "VIR_DOMAIN_PAUSED",
            [DomainState.Shutdown] = "VIR_DOMAIN_SHUTDOWN",
            [DomainState.Shutoff] = "VIR_DOMAIN_SHUTOFF",
            [DomainState.Crashed] = "VIR_DOMAIN_CRASHED",
            [DomainState.PmSuspended] = "VIR_DOMAIN_PMSUSPENDED",
        });

    [Fact]
    public void Lifecycle_event_types_have_the_values_of_virDomainEventType() =>
        AssertEnumMatchesHeader(new Dictionary<DomainEventType, string>
        {
            [DomainEventType.Defined] = "VIR_DOMAIN_EVENT_DEFINED",
            [DomainEventType.Undefined] = "VIR_DOMAIN_EVENT_UNDEFINED",
            [DomainEventType.Started] = "VIR_DOMAIN_EVENT_STARTED",
            [DomainEventType.Suspended] = "VIR_DOMAIN_EVENT_SUSPENDED",
            [DomainEventType.Resumed] = "VIR_DOMAIN_EVENT_RESUMED",
            [DomainEventType.Stopped] = "VIR_DOMAIN_EVENT_STOPPED",
            [DomainEventType.Shutdown] = "VIR_DOMAIN_EVENT_SHUTDOWN",
            [DomainEventType.PmSuspended] = "VIR_DOMAIN_EVENT_PMSUSPENDED",
            [DomainEventType.Crashed] = "VIR_DOMAIN_EVENT_CRASHED",
        });

    [Fact]
    public void Every_native_constant_of_the_binding_has_the_value_of_the_header()
    {
        // Every VIR_* constant in LibvirtConstants is named as in the header, so none can be left out.
        var constants = typeof(LibvirtConstants)
            .GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(field => field.IsLiteral && field.Name.StartsWith("VIR_", StringComparison.Ordinal))
            .Select(field => (field.Name, Convert.ToInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture)))
            .ToArray();

        Assert.Contains(constants, c => c.Name == "VIR_ERR_NO_DOMAIN");
        AssertMatchesHeader(constants);
    }

    private static void AssertEnumMatchesHeader<TEnum>(Dictionary<TEnum, string> headerNames)
        where TEnum : struct, Enum
    {
        var missing = Enum.GetValues<TEnum>().Where(value => !headerNames.ContainsKey(value)).ToArray();
        Assert.True(missing.Length == 0, $"{typeof(TEnum).Name} members without a header name here: {string.Join(", ", missing)}");
        AssertMatchesHeader([.. headerNames.Select(pair => (pair.Value, Convert.ToInt64(pair.Key, CultureInfo.InvariantCulture)))]);
    }

    /// <summary>The offset and the size of one field, as C expressions and as the C# struct has them.</summary>
    private static (string C, long Managed)[] Field<T>(string cType, string cField, string managedField)
        where T : struct
    {
        var field = typeof(T).GetField(managedField) ?? throw new ArgumentException($"{typeof(T).Name} has no field {managedField}", nameof(managedField));
        return
        [
            ($"offsetof({cType}, {cField})", (long)Marshal.OffsetOf<T>(managedField)),
            ($"sizeof((({cType} *)0)->{cField})", Marshal.SizeOf(field.FieldType)),
        ];
    }

    /// <summary>Evaluates each C expression against the libvirt headers and fails listing every one that differs.</summary>
    private static void AssertMatchesHeader((string C, long Managed)[] expectations)
    {
        var header = EvaluateInC(expectations.Select(e => e.C).ToArray());
        var mismatches = expectations
            .Where(e => header[e.C] != e.Managed)
            .Select(e => $"{e.C}: header {header[e.C]}, binding {e.Managed}")
            .ToArray();
        Assert.True(mismatches.Length == 0, "the binding differs from the libvirt headers:\n" + string.Join("\n", mismatches));
    }

    private static Dictionary<string, long> EvaluateInC(string[] expressions)
    {
        var directory = Directory.CreateTempSubdirectory("spherelet-libvirt-layout-");
        try
        {
            var source = new StringBuilder()
                .AppendLine("#define VIR_DEPRECATED /* the deprecated virError fields are part of the layout */")
                .AppendLine("#include <stddef.h>")
                .AppendLine("#include <stdio.h>")
                .AppendLine("#include <libvirt/libvirt.h>")
                .AppendLine("#include <libvirt/virterror.h>")
                .AppendLine("int main(void)")
                .AppendLine("{");
            foreach (var expression in expressions)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"    printf(\"%s\\t%lld\\n\", \"{expression}\", (long long)({expression}));");
            }

            source.AppendLine("    return 0;").AppendLine("}");
            var program = Path.Combine(directory.FullName, "layout");
            File.WriteAllText(program + ".c", source.ToString());

            var (compiled, compilerStdout, compilerStderr) = Run("cc", "-o", program, program + ".c");
            var compilerOutput = compilerStdout + compilerStderr;
            if (compilerOutput.Contains("libvirt/libvirt.h", StringComparison.Ordinal) && compilerOutput.Contains("No such file", StringComparison.Ordinal))
            {
                Assert.Fail("the libvirt C headers are missing: install libvirt-dev (apt-get install libvirt-dev)\n" + compilerOutput);
            }

            Assert.True(compiled, $"cc could not compile the layout program:\n{compilerOutput}");
            var (ran, output, errors) = Run(program);
            Assert.True(ran, $"the layout program failed:\n{output}{errors}");

            return output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('\t'))
                .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static (bool Succeeded, string Stdout, string Stderr) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"cannot run {program} ({e.Message}): the layout tests need gcc and libvirt-dev");
            throw;
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, stdout, stderr.Result);
        }
    }
}
