using Spherelet.Domain.Containers;
using Tmds.Linux;

namespace Spherelet.Agent.Containers;

/// <summary>Reads device nodes with stat(2) (following links).</summary>
public sealed class HostDevices : IHostDevices
{
    public unsafe string? ResolveBlockDevice(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string resolved;
        try
        {
            resolved = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        }
        catch (IOException)
        {
            return null;
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(resolved + "\0");
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.stat(p, &st) < 0)
            {
                return null;
            }
        }

        return (st.st_mode & LibC.S_IFMT) == LibC.S_IFBLK ? resolved : null;
    }
}
