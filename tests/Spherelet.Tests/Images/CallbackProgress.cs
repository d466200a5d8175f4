namespace Spherelet.Tests.Images;

/// <summary>Progress reported synchronously to a callback (System.Progress posts to the thread pool).</summary>
internal sealed class CallbackProgress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}
