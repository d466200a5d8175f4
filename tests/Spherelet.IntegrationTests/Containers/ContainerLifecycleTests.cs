using System.Text.Json;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// Container lifecycle through CRI against the real daemon: create, start, exit codes and
/// reasons, CRI logs on the host, status, listing, names, removal and log reopening. One pod
/// VM for the whole class; each test runs its own containers in it and removes them.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class ContainerLifecycleTests : IClassFixture<ContainerPod>
{
    private readonly ContainerPod _pod;

    public ContainerLifecycleTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task Two_GetContainerEvents_subscribers_both_see_create_start_stop_and_delete_in_order_and_one_that_never_reads_stalls_nothing()
    {
        using var first = _pod.Runtime.GetContainerEvents(new GetEventsRequest());
        using var second = _pod.Runtime.GetContainerEvents(new GetEventsRequest());
        using var idle = _pod.Runtime.GetContainerEvents(new GetEventsRequest()); // never read
        // A subscription is in place once its call has reached the daemon: an event after that reaches it.
        await Task.Delay(TimeSpan.FromSeconds(1));

        var id = await _pod.RunAsync(_pod.Container("evented", "sleep", "600"));
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        await _pod.RemoveAsync(id);

        foreach (var call in new[] { first, second })
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var seen = new List<ContainerEventResponse>();
            while (seen.LastOrDefault()?.ContainerEventType != ContainerEventType.ContainerDeletedEvent
                && await call.ResponseStream.MoveNext(deadline.Token))
            {
                if (call.ResponseStream.Current.ContainerId == id)
                {
                    seen.Add(call.ResponseStream.Current);
                }
            }

            Assert.Equal(
                [ContainerEventType.ContainerCreatedEvent, ContainerEventType.ContainerStartedEvent, ContainerEventType.ContainerStoppedEvent, ContainerEventType.ContainerDeletedEvent],
                seen.Select(e => e.ContainerEventType));
            // What the kubelet's evented PLEG reads: the pod by its UID, and the container's status at each step.
            Assert.All(seen, e => Assert.Equal(_pod.PodId, e.PodSandboxStatus.Id));
            Assert.All(seen, e => Assert.Equal(_pod.PodConfig.Metadata.Uid, e.PodSandboxStatus.Metadata.Uid));
            Assert.Equal(ContainerState.ContainerCreated, seen[0].ContainersStatuses.Single(c => c.Id == id).State);
            Assert.Equal(ContainerState.ContainerRunning, seen[1].ContainersStatuses.Single(c => c.Id == id).State);
            Assert.Equal(ContainerState.ContainerExited, seen[2].ContainersStatuses.Single(c => c.Id == id).State);
            Assert.DoesNotContain(seen[3].ContainersStatuses, c => c.Id == id);
            Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.CreatedAt <= p.Second.CreatedAt));
        }
    }

    [Fact]
    public async Task A_container_that_echoes_exits_0_with_the_line_in_its_cri_log()
    {
        var config = _pod.Container("echo", "sh", "-c", "echo hello from spherelet; echo to stderr >&2");
        var before = DateTimeOffset.UtcNow;

        var id = await _pod.CreateAsync(config);
        var created = await _pod.StatusAsync(id);
        await _pod.StartAsync(id);
        var exited = await _pod.WaitUntilExitedAsync(id);
        var log = await _pod.WaitForLogAsync(config, l => l.Count >= 2);

        Assert.Matches("^[0-9a-f]{64}$", id);
        Assert.Equal(ContainerState.ContainerCreated, created.State);
        Assert.True(created.CreatedAt > 0, "created_at");
        Assert.Equal(0, created.StartedAt);
        Assert.Equal(0, exited.ExitCode);
        Assert.Equal("Completed", exited.Reason);
        Assert.True(exited.StartedAt > 0, "started_at");
        Assert.True(exited.FinishedAt > exited.StartedAt, $"finished_at {exited.FinishedAt} after started_at {exited.StartedAt}");
        Assert.Equal(created.CreatedAt, exited.CreatedAt);
        var stdout = Assert.Single(log, r => r.Stream == "stdout");
        var stderr = Assert.Single(log, r => r.Stream == "stderr");
        Assert.Equal(('F', "hello from spherelet"), (stdout.Tag, stdout.Message));
        Assert.Equal(('F', "to stderr"), (stderr.Tag, stderr.Message));
        Assert.InRange(stdout.Time, before.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_container_that_exits_3_is_exited_with_code_3_and_reason_Error()
    {
        var id = await _pod.RunAsync(_pod.Container("exit3", "sh", "-c", "exit 3"));

        var exited = await _pod.WaitUntilExitedAsync(id);

        Assert.Equal(ContainerState.ContainerExited, exited.State);
        Assert.Equal(3, exited.ExitCode);
        Assert.Equal("Error", exited.Reason);
        Assert.True(exited.FinishedAt > exited.StartedAt && exited.StartedAt > 0, $"started_at {exited.StartedAt}, finished_at {exited.FinishedAt}");
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_long_line_is_logged_as_partial_records_and_output_without_a_final_newline_as_a_full_record()
    {
        // 40000 bytes on one line, then a last line that never gets its newline.
        var config = _pod.Container("long", "sh", "-c", "head -c 40000 /dev/zero | tr '\\000' x; echo; printf 'no newline at the end'");
        var id = await _pod.RunAsync(config);

        Assert.Equal(0, (await _pod.WaitUntilExitedAsync(id)).ExitCode);
        var log = await _pod.WaitForLogAsync(config, l => l.Any(r => r.Message == "no newline at the end"));

        Assert.All(log, r => Assert.Equal("stdout", r.Stream));
        Assert.True(log.Count >= 3, $"{log.Count} records");
        var longLine = log.Take(log.Count - 1).ToList();
        Assert.All(longLine.Take(longLine.Count - 1), r => Assert.Equal('P', r.Tag));
        Assert.Equal('F', longLine[^1].Tag);
        Assert.Equal(new string('x', 40000), string.Concat(longLine.Select(r => r.Message)));
        Assert.Equal(('F', "no newline at the end"), (log[^1].Tag, log[^1].Message));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ContainerStatus_reports_the_image_log_path_labels_and_annotations_as_given_and_verbose_info_as_json()
    {
        var config = _pod.Container("described", "sleep", "1000");
        config.Metadata.Attempt = 2;
        config.LogPath = "described/2.log";
        config.Labels.Add("tier", "backend");
        config.Annotations.Add("note", "kept as given");
        var id = await _pod.RunAsync(config);

        var response = await _pod.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true });
        var status = response.Status;

        Assert.Equal(id, status.Id);
        Assert.Equal(ContainerState.ContainerRunning, status.State);
        Assert.Equal(("described", 2u), (status.Metadata.Name, status.Metadata.Attempt));
        Assert.Equal(_pod.Image, status.Image.Image);
        // image_ref is the digest the image was pulled by (what the kubelet shows as the pod's imageID); image_id its config digest.
        Assert.StartsWith($"{_pod.Registry.Host}/{ContainerTestImage.Repository}@sha256:", status.ImageRef, StringComparison.Ordinal);
        Assert.Equal(_pod.ImageId, status.ImageId);
        Assert.Equal(Path.Combine(_pod.LogDirectory, "described", "2.log"), status.LogPath);
        Assert.Equal("backend", status.Labels["tier"]);
        Assert.Equal("kept as given", status.Annotations["note"]);
        Assert.Empty(status.Mounts);
        Assert.True(status.StartedAt > 0 && status.FinishedAt == 0, $"started_at {status.StartedAt}, finished_at {status.FinishedAt}");
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(response.Info["info"]).RootElement.ValueKind);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ListContainers_filters_by_id_prefix_pod_state_and_labels()
    {
        var runningConfig = _pod.Container("listed-running", "sleep", "1000");
        runningConfig.Labels.Add("list", "running");
        var createdConfig = _pod.Container("listed-created", "sleep", "1000");
        createdConfig.Labels.Add("list", "created");
        var running = await _pod.RunAsync(runningConfig);
        var created = await _pod.CreateAsync(createdConfig);

        async Task<List<Container>> List(ContainerFilter filter) =>
            (await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = filter })).Containers.ToList();

        var all = await List(new ContainerFilter());
        var inPod = await List(new ContainerFilter { PodSandboxId = _pod.PodId });
        var byPrefix = await List(new ContainerFilter { Id = running[..12] });
        var runningOnly = await List(new ContainerFilter { State = new ContainerStateValue { State = ContainerState.ContainerRunning } });
        var createdOnly = await List(new ContainerFilter { State = new ContainerStateValue { State = ContainerState.ContainerCreated } });
        var byLabel = await List(new ContainerFilter { LabelSelector = { ["list"] = "created" } });
        var otherPod = await List(new ContainerFilter { PodSandboxId = new string('0', 64) });

        Assert.Contains(all, c => c.Id == running);
        Assert.Contains(all, c => c.Id == created);
        Assert.Contains(inPod, c => c.Id == running);
        Assert.Contains(inPod, c => c.Id == created);
        var listed = Assert.Single(byPrefix);
        Assert.Equal((running, _pod.PodId, "listed-running", ContainerState.ContainerRunning), (listed.Id, listed.PodSandboxId, listed.Metadata.Name, listed.State));
        Assert.Equal(_pod.Image, listed.Image.Image);
        Assert.Equal(_pod.ImageId, listed.ImageId);
        Assert.True(listed.CreatedAt > 0, "created_at");
        Assert.Equal("running", listed.Labels["list"]);
        Assert.Contains(runningOnly, c => c.Id == running);
        Assert.DoesNotContain(runningOnly, c => c.Id == created);
        Assert.Contains(createdOnly, c => c.Id == created);
        Assert.DoesNotContain(createdOnly, c => c.Id == running);
        Assert.Equal(created, Assert.Single(byLabel).Id);
        Assert.Empty(otherPod);
        await _pod.RemoveAsync(running);
        await _pod.RemoveAsync(created);
    }

    [Fact]
    public async Task A_second_container_with_the_same_name_and_attempt_in_the_pod_is_already_exists()
    {
        var id = await _pod.CreateAsync(_pod.Container("twice", "true"));

        var duplicate = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(_pod.Container("twice", "true")));
        var again = _pod.Container("twice", "true");
        again.Metadata.Attempt = 1;
        again.LogPath = "twice/1.log";
        var nextAttempt = await _pod.CreateAsync(again);

        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
        Assert.NotEqual(id, nextAttempt);
        var named = (await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _pod.PodId } }))
            .Containers.Where(c => c.Metadata.Name == "twice").ToList();
        Assert.Equal(2, named.Count);
        await _pod.RemoveAsync(id);
        await _pod.RemoveAsync(nextAttempt);
    }

    [Fact]
    public async Task A_container_of_an_image_that_was_not_pulled_is_not_found_and_nothing_is_created()
    {
        var config = _pod.Container("unpulled", "true");
        config.Image = new ImageSpec { Image = _pod.NotPulledImage };

        var failure = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(config));

        Assert.Equal(StatusCode.NotFound, failure.StatusCode);
        var listed = await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _pod.PodId } });
        Assert.DoesNotContain(listed.Containers, c => c.Metadata.Name == "unpulled");
        var images = await _pod.Client.Images.ListImagesAsync(new ListImagesRequest());
        Assert.DoesNotContain(images.Images, i => i.RepoTags.Contains(_pod.NotPulledImage));
    }

    [Fact]
    public async Task RemoveContainer_kills_a_running_container_is_idempotent_and_then_its_status_is_not_found()
    {
        var id = await _pod.RunAsync(_pod.Container("removed", "sleep", "1000"));
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(id)).State);

        await _pod.RemoveAsync(id);
        await _pod.RemoveAsync(id);
        await _pod.RemoveAsync(new string('f', 64));

        var gone = await Assert.ThrowsAsync<RpcException>(() => _pod.StatusAsync(id));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Empty((await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { Id = id } })).Containers);
        // The name is free again.
        await _pod.RemoveAsync(await _pod.CreateAsync(_pod.Container("removed", "true")));
    }

    [Fact]
    public async Task ReopenContainerLog_after_the_log_was_renamed_writes_the_next_lines_to_a_new_file_at_the_log_path()
    {
        var config = _pod.Container("rotated", "sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.5; done");
        var id = await _pod.RunAsync(config);
        var path = _pod.HostLogPath(config);
        var rotated = path + ".1";
        await _pod.WaitForLogAsync(config, l => l.Count >= 2, ContainerPod.Slow);

        File.Move(path, rotated);
        await _pod.Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id });
        var oldLines = await ContainerPod.LogAsync(rotated);
        var newLines = await ContainerPod.WaitForLogAsync(path, l => l.Count >= 3, TimeSpan.FromSeconds(30));
        var oldLinesLater = await ContainerPod.LogAsync(rotated);

        Assert.True(oldLines.Count >= 2, $"{oldLines.Count} lines before the rename");
        Assert.True(newLines.Count >= 3, $"{newLines.Count} lines in the new file");
        Assert.Equal(oldLines.Count, oldLinesLater.Count);
        var lastOld = int.Parse(oldLines[^1].Message["line ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var firstNew = int.Parse(newLines[0].Message["line ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(lastOld + 1, firstNew);
        await _pod.RemoveAsync(id);
    }
}
