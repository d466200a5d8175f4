using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>struct winsize, for TIOCSWINSZ.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WinSize
{
    public ushort Rows;
    public ushort Columns;
    public ushort XPixels;
    public ushort YPixels;
}
