using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Containers;

/// <summary>A container as the fake guest keeps it.</summary>
internal sealed class FakeProcess(GuestContainerCreate create)
{
    public GuestContainerCreate Create { get; } = create;

    public bool Started { get; set; }

    public string Resources { get; set; } = string.Empty;

    public FakeGuestLog Log { get; } = new();

    public TaskCompletionSource<ContainerExit> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Exit(int code, int signal = 0, bool oom = false) =>
        Exited.TrySetResult(new ContainerExit(code, signal, oom, 1, 2));
}
