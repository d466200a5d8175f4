using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// Debian's docker-registry (the upstream Distribution registry) on 127.0.0.1 with a free
/// port and its own storage, optionally behind htpasswd basic auth. Stopped by its PID.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private RegistryServer(Process process, string directory, int port, (string User, string Password)? login)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Login = login;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:PORT", the registry part of image references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{Host}/");

    public (string User, string Password)? Login { get; }

    public static async Task<RegistryServer> StartAsync(bool requireLogin = false)
    {
        var directory = Directory.CreateTempSubdirectory("sph-registry-").FullName;
        var port = FreePort();
        (string, string)? login = null;
        var auth = string.Empty;
        if (requireLogin)
        {
            login = ("puller", "s3cret-" + Guid.NewGuid().ToString("N")[..8]);
            var htpasswd = Path.Combine(directory, "htpasswd");
            var (code, hash) = await RunAsync("htpasswd", "-Bbn", login.Value.Item1, login.Value.Item2);
            if (code != 0)
            {
                throw new InvalidOperationException("htpasswd (apache2-utils) failed: " + hash);
            }

            await File.WriteAllTextAsync(htpasswd, hash.Trim() + "\n");
            auth = $"auth:\n  htpasswd:\n    realm: spherelet-tests\n    path: {htpasswd}\n";
        }

        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config,
            "version: 0.1\n" +
            "log:\n  level: warn\n" +
            $"storage:\n  filesystem:\n    rootdirectory: {Path.Combine(directory, "data")}\n  delete:\n    enabled: true\n" +
            $"http:\n  addr: 127.0.0.1:{port}\n" +
            auth);
        var start = new ProcessStartInfo("docker-registry") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException("cannot run docker-registry (Debian package docker-registry): " + e.Message, e);
        }

        var server = new RegistryServer(process, directory, port, login);
        try
        {
            await server.WaitUntilServingAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Tmds.Linux.LibC.kill(_process.Id, Tmds.Linux.LibC.SIGTERM);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _ = Tmds.Linux.LibC.kill(_process.Id, Tmds.Linux.LibC.SIGKILL);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}: {_output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"docker-registry did not answer on {BaseAddress}: {_output}");
            }

            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }
}
