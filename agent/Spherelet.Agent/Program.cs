using System.CommandLine;
using Spherelet.Agent.Cli;
using Spherelet.Agent.Hosting;
using Spherelet.Agent.Options;
using Spherelet.Domain.Runtime;

namespace Spherelet.Agent;

/// <summary>
/// <c>spherelet [options]</c> runs the daemon; <c>spherelet doctor [options]</c> checks the host.
/// Exit codes: 0 success, 1 runtime failure or a failed doctor check, 2 invalid configuration.
/// </summary>
internal static class Program
{
    private const int ExitConfiguration = 2;

    private static async Task<int> Main(string[] args)
    {
        var config = new Option<string?>("--config") { Description = $"JSON configuration file (default {SphereletOptions.DefaultConfigPath})", Recursive = true };
        var socket = new Option<string?>("--socket") { Description = "CRI Unix socket (default /run/spherelet/spherelet.sock)", Recursive = true };
        var root = new Option<string?>("--root") { Description = "persistent state directory (default /var/lib/spherelet)", Recursive = true };
        var state = new Option<string?>("--state") { Description = "volatile state directory (default /run/spherelet)", Recursive = true };
        var logLevel = new Option<string?>("--log-level") { Description = "Trace, Debug, Information, Warning, Error, Critical or None", Recursive = true };

        CommandLineSettings Settings(ParseResult parsed) => new(
            parsed.GetValue(config),
            parsed.GetValue(socket),
            parsed.GetValue(root),
            parsed.GetValue(state),
            parsed.GetValue(logLevel));

        var rootCommand = new RootCommand("Spherelet: runs Kubernetes pods as KVM virtual machines and serves CRI v1 on a Unix socket.")
        {
            Options = { config, socket, root, state, logLevel },
        };
        rootCommand.SetAction((parsed, token) => RunDaemonAsync(Settings(parsed), token));

        var doctor = new Command("doctor", "Check that this host can run Spherelet; prints the fix for each problem.");
        doctor.SetAction((parsed, token) => RunDoctorAsync(Settings(parsed), token));
        rootCommand.Subcommands.Add(doctor);

        var version = new Command("version", "Print this binary's version and the version of the daemon answering on the socket.");
        version.SetAction((parsed, token) => RunVersionAsync(Settings(parsed), token));
        rootCommand.Subcommands.Add(version);

        var parseResult = rootCommand.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                await Console.Error.WriteLineAsync($"spherelet: {error.Message}");
            }

            await Console.Error.WriteLineAsync("spherelet: see 'spherelet --help'");
            return ExitConfiguration;
        }

        // The host handles SIGTERM and SIGINT itself and stops gracefully; the parser must not end the process first.
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static async Task<int> RunDaemonAsync(CommandLineSettings settings, CancellationToken cancellationToken)
    {
        if (LoadOptions(settings) is not { } options)
        {
            return ExitConfiguration;
        }

        try
        {
            DaemonHost.PrepareFilesystem(options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"spherelet: {e.Message}");
            return 1;
        }

        await using var app = DaemonHost.Build(options);
        await app.RunAsync();
        return 0;
    }

    private static async Task<int> RunDoctorAsync(CommandLineSettings settings, CancellationToken cancellationToken)
    {
        if (LoadOptions(settings) is not { } options)
        {
            return ExitConfiguration;
        }

        Console.WriteLine($"{RuntimeIdentity.Name} {RuntimeIdentity.Version} doctor");
        return await DoctorCommand.RunAsync(options, Console.Out, cancellationToken);
    }

    private static async Task<int> RunVersionAsync(CommandLineSettings settings, CancellationToken cancellationToken)
    {
        if (LoadOptions(settings) is not { } options)
        {
            return ExitConfiguration;
        }

        return await VersionCommand.RunAsync(options.Socket, Console.Out, Console.Error, cancellationToken);
    }

    private static SphereletOptions? LoadOptions(CommandLineSettings settings)
    {
        try
        {
            return OptionsLoader.Load(settings, Environment.GetEnvironmentVariables());
        }
        catch (OptionsLoadException e)
        {
            Console.Error.WriteLine($"spherelet: {e.Message}");
            return null;
        }
    }
}
