using System.Globalization;
using System.Text.Json.Nodes;

namespace Spherelet.Streaming;

/// <summary>
/// How a remote command ended, as the Kubernetes <c>Status</c> object the v4 and later
/// protocols send on the error channel: <c>Success</c>, a non-zero exit code (reason
/// <c>NonZeroExitCode</c>, the code as the cause <c>ExitCode</c>, which kubectl turns into its own
/// exit code), or another failure with its message.
/// </summary>
public static class RemoteCommandStatus
{
    public static byte[] Success() => Serialize(new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" });

    public static byte[] ExitCode(int exitCode) => exitCode == 0
        ? Success()
        : Serialize(new JsonObject
        {
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = $"command terminated with non-zero exit code: {exitCode.ToString(CultureInfo.InvariantCulture)}",
            ["reason"] = "NonZeroExitCode",
            ["details"] = new JsonObject
            {
                ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.ToString(CultureInfo.InvariantCulture) }),
            },
        });

    public static byte[] Failure(string message) =>
        Serialize(new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Failure", ["message"] = message, ["reason"] = "InternalError", ["code"] = 500 });

    private static byte[] Serialize(JsonObject status) => System.Text.Encoding.UTF8.GetBytes(status.ToJsonString());
}
