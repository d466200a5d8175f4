using Spherelet.Crx.Protocol;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>One VM booted for a whole test class (VM boots are slow under TCG).</summary>
public sealed class BootedGuest : IAsyncLifetime
{
    public GuestVm Vm { get; private set; } = null!;

    public CrxClient Crx { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Vm = GuestVm.Boot();
        Crx = await Vm.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await Crx.DisposeAsync();
        await Vm.DisposeAsync();
    }
}
