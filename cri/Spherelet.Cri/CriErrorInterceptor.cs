using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

/// <summary>Applies <see cref="CriErrors"/> to every CRI call and logs failures, one line each.</summary>
public sealed partial class CriErrorInterceptor : Interceptor
{
    private readonly ILogger<CriErrorInterceptor> _logger;

    public CriErrorInterceptor(ILogger<CriErrorInterceptor> logger)
    {
        _logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException { Status.StatusCode: not StatusCode.Unimplemented })
        {
            throw Translate(e, context.Method);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException { Status.StatusCode: not StatusCode.Unimplemented })
        {
            throw Translate(e, context.Method);
        }
    }

    private RpcException Translate(Exception error, string method)
    {
        var mapped = CriErrors.ToRpcException(error, method);
        var rpc = CriErrors.RpcName(method);
        switch (error)
        {
            case SphereletException:
            case Images.ImageException:
            case RpcException:
                LogRejected(rpc, mapped.StatusCode, mapped.Status.Detail);
                break;
            case OperationCanceledException:
                LogCancelled(rpc);
                break;
            default:
                LogFailed(error, rpc);
                break;
        }

        return mapped;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "cri call rejected rpc={Rpc} code={Code} detail={Detail}")]
    private partial void LogRejected(string rpc, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "cri call cancelled rpc={Rpc}")]
    private partial void LogCancelled(string rpc);

    [LoggerMessage(Level = LogLevel.Error, Message = "cri call failed rpc={Rpc}")]
    private partial void LogFailed(Exception error, string rpc);
}
