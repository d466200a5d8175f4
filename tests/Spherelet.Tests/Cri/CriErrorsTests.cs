using Grpc.Core;
using Spherelet.Cri;
using Spherelet.Domain.Errors;

namespace Spherelet.Tests.Cri;

public sealed class CriErrorsTests
{
    public static TheoryData<Exception, StatusCode> DomainErrors => new()
    {
        { new InvalidRequestException("bad"), StatusCode.InvalidArgument },
        { new ObjectNotFoundException("gone"), StatusCode.NotFound },
        { new ObjectAlreadyExistsException("twice"), StatusCode.AlreadyExists },
        { new PreconditionFailedException("not now"), StatusCode.FailedPrecondition },
        { new RuntimeNotReadyException("recovering"), StatusCode.Unavailable },
        { new DeadlineExceededException("too slow"), StatusCode.DeadlineExceeded },
        { new GuestUnavailableException("vm gone"), StatusCode.Unavailable },
    };

    [Theory]
    [MemberData(nameof(DomainErrors))]
    public void Domain_errors_map_to_their_status_code_with_their_message(Exception error, StatusCode code)
    {
        var rpc = CriErrors.ToRpcException(error, "/runtime.v1.RuntimeService/RunPodSandbox");

        Assert.Equal(code, rpc.StatusCode);
        Assert.Equal(error.Message, rpc.Status.Detail);
    }

    [Fact]
    public void Unimplemented_rpc_names_itself()
    {
        var rpc = CriErrors.ToRpcException(new RpcException(new Status(StatusCode.Unimplemented, "")), "/runtime.v1.ImageService/PullImage");

        Assert.Equal(StatusCode.Unimplemented, rpc.StatusCode);
        Assert.StartsWith("ImageService/PullImage is not implemented", rpc.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Unexpected_failure_is_internal_and_names_the_rpc()
    {
        var rpc = CriErrors.ToRpcException(new InvalidOperationException("boom"), "/runtime.v1.RuntimeService/Status");

        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        Assert.Equal("RuntimeService/Status failed: boom", rpc.Status.Detail);
    }
}
