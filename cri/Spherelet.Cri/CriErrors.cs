using Grpc.Core;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Runtime;
using Spherelet.Images;

namespace Spherelet.Cri;

/// <summary>
/// The one place where failures become gRPC statuses: each typed domain error has
/// its status code, RPCs that are not built yet say which RPC they are, and anything
/// unexpected becomes Internal.
/// </summary>
public static class CriErrors
{
    /// <summary>The status code a domain error maps to.</summary>
    public static StatusCode CodeFor(SphereletException error) => error switch
    {
        InvalidRequestException => StatusCode.InvalidArgument,
        ObjectNotFoundException => StatusCode.NotFound,
        ObjectAlreadyExistsException => StatusCode.AlreadyExists,
        PreconditionFailedException => StatusCode.FailedPrecondition,
        RuntimeNotReadyException => StatusCode.Unavailable,
        GuestUnavailableException => StatusCode.Unavailable,
        GuestOperationFailedException => StatusCode.Internal,
        NetworkOperationFailedException => StatusCode.Internal,
        DeadlineExceededException => StatusCode.DeadlineExceeded,
        SubscriberTooSlowException => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    };

    /// <summary>The status code an image failure maps to.</summary>
    public static StatusCode CodeFor(ImageErrorKind kind) => kind switch
    {
        ImageErrorKind.Invalid => StatusCode.InvalidArgument,
        ImageErrorKind.NotFound => StatusCode.NotFound,
        ImageErrorKind.Unauthorized => StatusCode.PermissionDenied,
        ImageErrorKind.DigestMismatch => StatusCode.DataLoss,
        ImageErrorKind.Unavailable => StatusCode.Unavailable,
        ImageErrorKind.InUse => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    /// <summary>
    /// Turns what an RPC handler threw into the RpcException the client sees.
    /// <paramref name="method"/> is the gRPC method path, for example
    /// <c>/runtime.v1.RuntimeService/ListContainers</c>.
    /// </summary>
    public static RpcException ToRpcException(Exception error, string method)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error switch
        {
            SphereletException domain => new RpcException(new Status(CodeFor(domain), domain.Message)),
            ImageException image => new RpcException(new Status(CodeFor(image.Kind), image.Message)),
            RpcException { StatusCode: StatusCode.Unimplemented } rpc when string.IsNullOrEmpty(rpc.Status.Detail) =>
                new RpcException(new Status(StatusCode.Unimplemented, NotImplementedMessage(method))),
            RpcException rpc => rpc,
            OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled")),
            _ => new RpcException(new Status(StatusCode.Internal, $"{RpcName(method)} failed: {error.Message}")),
        };
    }

    /// <summary>"RuntimeService/ListContainers" from "/runtime.v1.RuntimeService/ListContainers".</summary>
    public static string RpcName(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var trimmed = method.TrimStart('/');
        const string package = "runtime.v1.";
        return trimmed.StartsWith(package, StringComparison.Ordinal) ? trimmed[package.Length..] : trimmed;
    }

    private static string NotImplementedMessage(string method) =>
        $"{RpcName(method)} is not implemented in {RuntimeIdentity.Name} {RuntimeIdentity.Version} yet";
}
