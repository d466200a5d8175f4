using System.Security.Cryptography;
using Spherelet.Agent.Persistence;

namespace Spherelet.Agent.Virtualization;

/// <summary>
/// This agent's identity among agents that share a libvirtd (each with its own root): made
/// once, kept in <c>&lt;Root&gt;/instance-id</c>, written into every VM's metadata.
/// </summary>
public sealed record AgentInstance(string Id)
{
    public static AgentInstance LoadOrCreate(string root)
    {
        var path = Path.Combine(root, "instance-id");
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length == 16 && existing.All(char.IsAsciiHexDigitLower))
            {
                return new AgentInstance(existing);
            }

            throw new InvalidDataException($"{path} does not hold an instance id (16 lowercase hex digits)");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        Directory.CreateDirectory(root);
        AtomicFile.WriteAsync(path, System.Text.Encoding.ASCII.GetBytes(id + "\n"), CancellationToken.None).GetAwaiter().GetResult();
        return new AgentInstance(id);
    }
}
