using Spherelet.Crx.Protocol;
using Spherelet.Domain.Errors;

namespace Spherelet.Guest;

/// <summary>The one place where CRX's error codes become the domain's typed errors.</summary>
public static class GuestErrors
{
    /// <summary>The domain error for a failed guest call, or null when <paramref name="error"/> is not a guest failure.</summary>
    public static SphereletException? Translate(Exception error, string podId)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error switch
        {
            CrxCallException call => call.Code switch
            {
                CrxProtocol.Codes.InvalidArgument => new InvalidRequestException(call.Detail, call),
                CrxProtocol.Codes.NotFound => new ObjectNotFoundException(call.Detail, call),
                CrxProtocol.Codes.AlreadyExists => new ObjectAlreadyExistsException(call.Detail, call),
                CrxProtocol.Codes.FailedPrecondition => new PreconditionFailedException(call.Detail, call),
                CrxProtocol.Codes.Unavailable => new GuestUnavailableException($"pod {podId}: the guest is unavailable: {call.Detail}", call),
                _ => new GuestOperationFailedException($"pod {podId}: the guest failed: {call.Code}: {call.Detail}", call),
            },
            CrxConnectionLostException lost => new GuestUnavailableException($"pod {podId}: the channel to the guest is lost: {lost.Message}", lost),
            _ => null,
        };
    }

    /// <summary>Runs a guest call, turning a guest failure into the domain's error.</summary>
    public static async Task<T> GuardAsync<T>(Func<Task<T>> call, string podId)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call();
        }
        catch (Exception e) when (Translate(e, podId) is { } translated)
        {
            throw translated;
        }
    }

    /// <inheritdoc cref="GuardAsync{T}(Func{Task{T}}, string)"/>
    public static async Task GuardAsync(Func<Task> call, string podId)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            await call();
        }
        catch (Exception e) when (Translate(e, podId) is { } translated)
        {
            throw translated;
        }
    }
}
