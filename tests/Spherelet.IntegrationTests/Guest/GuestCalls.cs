using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>The CRX calls the guest tests make again and again, each with the tests' 30 s bound.</summary>
public static class GuestCalls
{
    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public static Task StartContainerAsync(this CrxClient crx, string id) =>
        crx.CallAsync(new Request { StartContainer = new StartContainer { ContainerId = id } }, Timeout());

    public static Task RemoveContainerAsync(this CrxClient crx, string id) =>
        crx.CallAsync(new Request { RemoveContainer = new RemoveContainer { ContainerId = id } }, Timeout());
}
