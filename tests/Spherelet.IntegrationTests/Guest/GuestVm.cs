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

    private string? _layersMount;

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

    /// <param name="layersDirectory">Unpacked image layers to bind read-only at <c>layers</c> in the pod share (the guest
    /// sees them at /pod/layers, as the agent binds a pod's layers), or null. The share is passthrough, as libvirt's
    /// accessmode: only it carries trusted.* xattrs (overlayfs's opaque marker) to the guest.</param>
    public static GuestVm Boot(string? layersDirectory = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sph-vm-").FullName;
        MakeBusyboxRoot(Path.Combine(directory, "pod", "rootfs"));
        var layersMount = layersDirectory is null ? null : BindReadOnly(layersDirectory, Path.Combine(directory, "pod", "layers"));
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var args = GuestQemuCommand.Arguments(
            GuestArtifacts.Kernel,
            GuestArtifacts.Initramfs,
            directory,
            $"file:{Path.Combine(directory, "console.log")}",
            "spherelet.log=debug",
            [
                // A NIC for sandbox network configuration; restrict=on: nothing leaves the VM.
                "-netdev", "user,id=net0,restrict=on",
                "-device", $"virtio-net-pci,netdev=net0,mac={Mac}",
            ]);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new GuestVm(directory, Process.Start(start)!) { _layersMount = layersMount };
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
        if (_layersMount is not null)
        {
            // Never delete through the bind: the layers are the test's.
            Run("umount", _layersMount);
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static string BindReadOnly(string source, string target)
    {
        System.IO.Directory.CreateDirectory(target);
        Run("mount", "--bind", "-o", "ro", source, target);
        return target;
    }

    private static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed: {error}");
        }
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
