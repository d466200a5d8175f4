using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Spherelet.Crx.Protocol;
using Spherelet.Tests.Shared;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// A real pod VM booted by QEMU (q35, TCG here, KVM where it is usable) with the
/// Spherelet guest kernel and initramfs, the CRX channel on a virtio-serial port backed by
/// a Unix socket, and a 9p pod share holding a busybox root file system.
/// </summary>
public sealed class GuestVm : IAsyncDisposable
{
    private readonly Process _qemu;
    private readonly StringBuilder _qemuOutput = new();

    private GuestVm(string directory, Process qemu)
    {
        Directory = directory;
        _qemu = qemu;
        qemu.OutputDataReceived += (_, e) => Append(e.Data);
        qemu.ErrorDataReceived += (_, e) => Append(e.Data);
        qemu.BeginOutputReadLine();
        qemu.BeginErrorReadLine();
    }

    /// <summary>The MAC of the VM's one NIC.</summary>
    public const string Mac = "52:54:00:5e:00:53";

    public string Directory { get; }

    /// <summary>The pod share on the host; the guest mounts it at /pod.</summary>
    public string Share => Path.Combine(Directory, "pod");

    public string ChannelSocket => Path.Combine(Directory, "crx.sock");

    public string ConsoleLog => Path.Combine(Directory, "console.log");

    public bool HasExited => _qemu.HasExited;

    /// <param name="layersDirectory">Unpacked image layers to share read-only as the <c>layers</c> tag (mounted at /layers), or null.
    /// passthrough, as libvirt's accessmode: only it carries trusted.* xattrs (overlayfs's opaque marker) to the guest.</param>
    public static GuestVm Boot(string? layersDirectory = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sph-vm-").FullName;
        MakeBusyboxRoot(Path.Combine(directory, "pod", "rootfs"));
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] layers = layersDirectory is null
            ? []
            : ["-fsdev", $"local,id=layers,path={layersDirectory},security_model=passthrough,readonly=on", "-device", "virtio-9p-pci,fsdev=layers,mount_tag=layers"];
        var args = GuestQemuCommand.Arguments(
            GuestArtifacts.Kernel,
            GuestArtifacts.Initramfs,
            directory,
            $"file:{Path.Combine(directory, "console.log")}",
            layersDirectory is null ? "spherelet.log=debug" : "spherelet.log=debug spherelet.layers=layers",
            [
                // A NIC for sandbox network configuration; restrict=on: nothing leaves the VM.
                "-netdev", "user,id=net0,restrict=on",
                "-device", $"virtio-net-pci,netdev=net0,mac={Mac}",
                .. layers,
            ]);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new GuestVm(directory, Process.Start(start)!);
    }

    /// <summary>Connects to CRX and exchanges Hello; waits while the VM boots.</summary>
    public async Task<CrxClient> ConnectAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        while (!File.Exists(ChannelSocket))
        {
            ThrowIfExited();
            await Task.Delay(20, cts.Token);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(ChannelSocket), cts.Token);
        try
        {
            return await CrxClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), "tests", cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"CRX did not answer Hello.\n{Diagnostics()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _qemu.WaitForExitAsync(cts.Token);
        return _qemu.ExitCode;
    }

    public string Diagnostics()
    {
        var console = File.Exists(ConsoleLog) ? File.ReadAllText(ConsoleLog) : "(no console log)";
        lock (_qemuOutput)
        {
            return $"QEMU output:\n{_qemuOutput}\nguest console:\n{console}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_qemu.HasExited)
        {
            _qemu.Kill();
            await _qemu.WaitForExitAsync();
        }

        _qemu.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void ThrowIfExited()
    {
        if (_qemu.HasExited)
        {
            throw new InvalidOperationException($"QEMU exited with {_qemu.ExitCode}.\n{Diagnostics()}");
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_qemuOutput)
            {
                _qemuOutput.AppendLine(line);
            }
        }
    }

    /// <summary>A root file system of busybox (Debian's busybox-static) and its applet links.</summary>
    private static void MakeBusyboxRoot(string root)
    {
        var bin = Path.Combine(root, "bin");
        System.IO.Directory.CreateDirectory(bin);
        foreach (var dir in new[] { "proc", "sys", "dev", "tmp", "etc", "root" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(root, dir));
        }

        File.Copy("/bin/busybox", Path.Combine(bin, "busybox"));
        foreach (var applet in new[] { "sh", "echo", "cat", "sleep", "true", "false", "id", "hostname", "ls", "env", "wc", "head", "dd", "ip", "tty", "stty", "grep", "pwd", "mount" })
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }
    }
}
