using Microsoft.Extensions.Logging;

namespace Spherelet.Agent.Hosting;

/// <summary>The agent host's log events, one line each.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "spherelet starting version={Version} socket={Socket} root={Root} state={State} cgroupDriver={CgroupDriver}")]
    public static partial void Starting(ILogger logger, string version, string socket, string root, string state, Spherelet.Domain.Node.CgroupDriver cgroupDriver);

    [LoggerMessage(Level = LogLevel.Information, Message = "spherelet serving CRI socket={Socket}")]
    public static partial void Serving(ILogger logger, string socket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "host check failed check={Check} reason={Reason} detail={Detail} fix={Fix}")]
    public static partial void CheckFailed(ILogger logger, string check, string reason, string detail, string fix);

    [LoggerMessage(Level = LogLevel.Information, Message = "spherelet stopped; pod VMs keep running")]
    public static partial void Stopped(ILogger logger);
}
