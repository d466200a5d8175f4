using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Events;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>
    /// Streams container and sandbox events (a sandbox's carry its id) from now on, each with the
    /// pod's sandbox status and every container's status as they were then: what the kubelet's
    /// evented PLEG reads. A subscriber that falls behind is dropped with ResourceExhausted.
    /// </summary>
    public override async Task GetContainerEvents(GetEventsRequest request, IServerStreamWriter<ContainerEventResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var subscription = _events.Subscribe();
        await foreach (var podEvent in subscription.Reader.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(ToResponse(podEvent), context.CancellationToken);
        }
    }

    private static ContainerEventResponse ToResponse(PodEvent podEvent)
    {
        var response = new ContainerEventResponse
        {
            ContainerId = podEvent.Id,
            ContainerEventType = podEvent.Type switch
            {
                PodEventType.Created => ContainerEventType.ContainerCreatedEvent,
                PodEventType.Started => ContainerEventType.ContainerStartedEvent,
                PodEventType.Stopped => ContainerEventType.ContainerStoppedEvent,
                _ => ContainerEventType.ContainerDeletedEvent,
            },
            CreatedAt = podEvent.CreatedAt,
            PodSandboxStatus = SandboxMapping.ToStatusResponse(new SandboxStatus(podEvent.Sandbox, null, podEvent.Sandbox.Vmm), verbose: false, podEvent.CreatedAt).Status,
        };
        response.ContainersStatuses.Add(podEvent.Containers.Select(ContainerMapping.ToStatus));
        return response;
    }
}
