namespace Spherelet.Tests.Images.Registry;

/// <summary>A clock that moves only when a test moves it.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => Now;
}
