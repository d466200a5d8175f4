using System.Diagnostics;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>virsh, as an operator would use it to look at pod VMs.</summary>
public static class Virsh
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("qemu:///system");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout).Trim() + (await stderr).Trim());
    }

    /// <summary>"running", "shut off", ... or null when libvirt has no such domain.</summary>
    public static async Task<string?> DomainStateAsync(string name)
    {
        var (code, output) = await RunAsync("domstate", name);
        return code == 0 ? output : null;
    }

    /// <summary>Names of every domain, running or not.</summary>
    public static async Task<IReadOnlyList<string>> AllDomainsAsync()
    {
        var (_, output) = await RunAsync("list", "--all", "--name");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The pod VMs (running or not) of the agent whose root is <paramref name="agentRoot"/>: other tests' domains do not count.</summary>
    public static async Task<IReadOnlyList<string>> DomainsOfAgentAsync(string agentRoot)
    {
        var idFile = Path.Combine(agentRoot, "instance-id");
        if (!File.Exists(idFile))
        {
            return [];
        }

        var instance = (await File.ReadAllTextAsync(idFile)).Trim();
        var owned = new List<string>();
        foreach (var name in (await AllDomainsAsync()).Where(n => n.StartsWith("sph-", StringComparison.Ordinal)))
        {
            var (_, metadata) = await RunAsync("metadata", name, "urn:spherelet:pod:1");
            if (metadata.Contains($">{instance}<", StringComparison.Ordinal))
            {
                owned.Add(name);
            }
        }

        return owned;
    }

    /// <summary>Destroys and undefines every pod VM of the agent whose root is <paramref name="agentRoot"/> (test cleanup).</summary>
    public static async Task RemoveDomainsOfAgentAsync(string agentRoot)
    {
        foreach (var name in await DomainsOfAgentAsync(agentRoot))
        {
            await RunAsync("destroy", name);
            await RunAsync("undefine", name);
        }
    }
}
