namespace Spherelet.Tests.Sandboxes;

internal sealed class NoopDisposable : IDisposable
{
    public void Dispose()
    {
    }
}
