using System.Globalization;
using System.Text.Json.Nodes;

namespace Spherelet.Streaming;

/// <summary>
/// How a remote command ended: success, a non-zero exit code, or another failure. The v4 and
/// later protocols send it as the Kubernetes <c>Status</c> object (<see cref="ToJson"/>: a non-zero
/// exit code has reason <c>NonZeroExitCode</c> and the code as the cause <c>ExitCode</c>, which
/// kubectl turns into its own exit code); the older ones send only a failure's text (<see cref="ToText"/>).
/// </summary>
public sealed record RemoteCommandStatus
{
    private RemoteCommandStatus(int exitCode, string? failure)
    {
        ExitCode = exitCode;
        Failure = failure;
    }

    /// <summary>The exit code (0 for success or a failure that is not an exit code).</summary>
    public int ExitCode { get; }

    /// <summary>Why the command could not run or be followed, when that is how it ended.</summary>
    public string? Failure { get; }

    public bool Succeeded => ExitCode == 0 && Failure is null;

    public static RemoteCommandStatus Success() => new(0, null);

    public static RemoteCommandStatus Exited(int exitCode) => new(exitCode, null);

    public static RemoteCommandStatus Failed(string message) => new(0, message);

    /// <summary>The Kubernetes Status object, JSON.</summary>
    public byte[] ToJson()
    {
        var status = new JsonObject { ["metadata"] = new JsonObject() };
        if (Succeeded)
        {
            status["status"] = "Success";
        }
        else if (Failure is { } failure)
        {
            status["status"] = "Failure";
            status["message"] = failure;
            status["reason"] = "InternalError";
            status["code"] = 500;
        }
        else
        {
            var code = ExitCode.ToString(CultureInfo.InvariantCulture);
            status["status"] = "Failure";
            status["message"] = $"command terminated with non-zero exit code: {code}";
            status["reason"] = "NonZeroExitCode";
            status["details"] = new JsonObject
            {
                ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code }),
            };
        }

        return System.Text.Encoding.UTF8.GetBytes(status.ToJsonString());
    }

    /// <summary>What the protocols before v4 put on the error stream: nothing on success, else the failure's text.</summary>
    public string ToText() =>
        Succeeded ? string.Empty : Failure ?? $"command terminated with non-zero exit code: {ExitCode.ToString(CultureInfo.InvariantCulture)}";
}
