using Microsoft.Extensions.Logging;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;

namespace Spherelet.Streaming;

/// <summary>
/// Runs one exec or attach session between a client (any transport) and a process in a pod VM:
/// stdin and terminal resizes from the client to the process, its output to the client, and at
/// the end its exit status (exec) or <c>Success</c> (attach) on the error channel. The session
/// ends when the process's output ends, or when the client goes away (the process is then
/// disposed: an exec'd one is killed, the attached main process goes on).
/// </summary>
public static partial class RemoteCommandSession
{
    /// <param name="start">Starts (exec) or attaches to (attach) the process.</param>
    /// <param name="reportExitCode">Exec: the exit code becomes the status; attach: the status is Success.</param>
    public static async Task RunAsync(
        Func<CancellationToken, Task<IInteractiveProcess>> start,
        IRemoteCommandTransport transport,
        bool stdin,
        bool reportExitCode,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(transport);
        IInteractiveProcess process;
        try
        {
            // Not cancelled with the client: a start cut short would leave the process running with
            // nobody to kill it. A client that went away meanwhile ends the session right after.
            process = await start(CancellationToken.None);
        }
        catch (SphereletException e)
        {
            LogStartFailed(logger, e.Message);
            await transport.FinishAsync(RemoteCommandStatus.Failed(e.Message), cancellationToken);
            return;
        }

        await using (process)
        {
            using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var input = PumpInputAsync(process, transport, stdin, session.Token);
            var output = PumpOutputAsync(process, transport, session.Token);
            var first = await Task.WhenAny(output, input);
            var guestFailure = output.Exception?.InnerException as SphereletException;
            if (first == input || output.IsCanceled || cancellationToken.IsCancellationRequested || (output.IsFaulted && guestFailure is null))
            {
                // The client has gone (or cannot be written to): nobody is left to tell how it ended.
                LogClientGone(logger);
                await session.CancelAsync();
                await Quietly(output);
                return;
            }

            RemoteCommandStatus status;
            try
            {
                if (guestFailure is not null)
                {
                    throw guestFailure;
                }

                var exitCode = await process.Exited.WaitAsync(session.Token);
                status = reportExitCode ? RemoteCommandStatus.Exited(exitCode) : RemoteCommandStatus.Success();
            }
            catch (SphereletException e)
            {
                status = RemoteCommandStatus.Failed(e.Message);
            }

            LogProcessEnded(logger, status.ExitCode, status.Failure ?? string.Empty);

            await Quietly(transport.FinishAsync(status, cancellationToken));
            await session.CancelAsync();
            await Quietly(input);
        }
    }

    /// <summary>Client input to the process until the client has gone.</summary>
    private static async Task PumpInputAsync(IInteractiveProcess process, IRemoteCommandTransport transport, bool stdin, CancellationToken cancellationToken)
    {
        await foreach (var message in transport.Input.ReadAllAsync(cancellationToken))
        {
            try
            {
                switch (message.Kind)
                {
                    case ClientInputKind.Stdin when stdin:
                        await process.WriteStdinAsync(message.Data, cancellationToken);
                        break;
                    case ClientInputKind.StdinEnd when stdin:
                        await process.CloseStdinAsync(cancellationToken);
                        break;
                    case ClientInputKind.Resize:
                        await process.ResizeAsync(message.Size.Width, message.Size.Height, cancellationToken);
                        break;
                }
            }
            catch (SphereletException)
            {
                // The process has exited (or its stdin is closed): the output side ends the session.
            }
        }
    }

    /// <summary>The process's output to the client until it ends.</summary>
    private static async Task PumpOutputAsync(IInteractiveProcess process, IRemoteCommandTransport transport, CancellationToken cancellationToken)
    {
        await foreach (var chunk in process.Output.ReadAllAsync(cancellationToken))
        {
            if (chunk.Stderr)
            {
                await transport.SendStderrAsync(chunk.Data, cancellationToken);
            }
            else
            {
                await transport.SendStdoutAsync(chunk.Data, cancellationToken);
            }
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is OperationCanceledException or SphereletException or IOException or System.Net.WebSockets.WebSocketException or System.Threading.Channels.ChannelClosedException)
        {
            // The session is over either way.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "streaming session client gone: the process is let go")]
    private static partial void LogClientGone(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "streaming session process ended exit_code={ExitCode} failure={Failure}")]
    private static partial void LogProcessEnded(ILogger logger, int exitCode, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "streaming session could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);
}
