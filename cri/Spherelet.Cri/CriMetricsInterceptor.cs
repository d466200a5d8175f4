using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Prometheus;

namespace Spherelet.Cri;

/// <summary>
/// Times every CRI call, from its arrival to its answer (for a stream, to its end), by RPC and
/// gRPC status code: <c>spherelet_cri_request_duration_seconds</c>. Runs outside
/// <see cref="CriErrorInterceptor"/>, so a call that failed counts under the code it was answered with.
/// </summary>
public sealed class CriMetricsInterceptor : Interceptor
{
    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "spherelet_cri_request_duration_seconds",
        "CRI requests by RPC and gRPC status code: time from arrival to answer (for a stream, to its end).",
        new HistogramConfiguration
        {
            LabelNames = ["rpc", "code"],
            // 1 ms to about 33 s: a Version call to a pod VM booted under TCG.
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 16),
        });

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return TimedAsync(context.Method, () => continuation(request, context));
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return TimedAsync(context.Method, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });
    }

    /// <summary>Runs a call and observes its duration under the code it ended with (OK, the RpcException's, or Unknown).</summary>
    private static async Task<T> TimedAsync<T>(string method, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.Unknown;
        try
        {
            var result = await call();
            code = StatusCode.OK;
            return result;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        finally
        {
            Observe(method, code, started);
        }
    }

    private static void Observe(string method, StatusCode code, long started) =>
        Duration.WithLabels(CriErrors.RpcName(method), code.ToString()).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
}
