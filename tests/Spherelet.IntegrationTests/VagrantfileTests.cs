using System.Diagnostics;

namespace Spherelet.IntegrationTests;

/// <summary>Needs vagrant and vagrant-libvirt (Debian packages; scripts/test installs them).</summary>
public sealed class VagrantfileTests
{
    [Fact]
    public async Task Vagrantfile_passes_vagrant_validate()
    {
        var start = new ProcessStartInfo("vagrant", "validate")
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["VAGRANT_DEFAULT_PROVIDER"] = "libvirt";
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("Vagrantfile validated successfully", output, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vagrantfile")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("no Vagrantfile above " + AppContext.BaseDirectory);
    }
}
