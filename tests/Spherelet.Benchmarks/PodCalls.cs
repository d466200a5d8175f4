using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Benchmarks;

/// <summary>The pod sandbox calls the pod VM benchmarks make.</summary>
internal static class PodCalls
{
    /// <summary>A pod of namespace <paramref name="namespace"/> (<c>bench</c> unless given) with a fresh UID.</summary>
    public static PodSandboxConfig Config(string name, string @namespace = "bench") => new()
    {
        Metadata = new PodSandboxMetadata { Name = name, Namespace = @namespace, Uid = Guid.NewGuid().ToString(), Attempt = 0 },
        Hostname = name,
    };

    public static async Task<string> RunAsync(RuntimeService.RuntimeServiceClient client, PodSandboxConfig config, string runtimeHandler = "") =>
        (await client.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler })).PodSandboxId;

    public static async Task RemoveAsync(RuntimeService.RuntimeServiceClient client, string id)
    {
        await client.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id });
        await client.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
    }

    /// <summary>
    /// After a failed run: removes every pod the daemon still has (it sees only its own), so
    /// that no VM outlives the benchmark; a pod that cannot be removed is reported on stderr.
    /// </summary>
    public static async Task RemoveLeftoversAsync(RuntimeService.RuntimeServiceClient client)
    {
        ListPodSandboxResponse pods;
        try
        {
            pods = await client.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        }
        catch (RpcException e)
        {
            await Console.Error.WriteLineAsync($"bench: cannot list pods to clean up: {e.Status}");
            return;
        }

        foreach (var pod in pods.Items)
        {
            try
            {
                await RemoveAsync(client, pod.Id);
            }
            catch (RpcException e)
            {
                await Console.Error.WriteLineAsync($"bench: pod {pod.Id} not removed: {e.Status}");
            }
        }
    }
}
