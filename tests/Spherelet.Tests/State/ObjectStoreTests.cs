using Spherelet.Domain.Errors;
using Spherelet.Domain.State;

namespace Spherelet.Tests.State;

/// <summary>The in-memory object store with its checkpoints: removals and updates of one object take turns.</summary>
public sealed class ObjectStoreTests
{
    private sealed record Item(string Id, int Value);

    [Fact]
    public async Task A_removal_during_an_update_waits_for_it_and_the_object_stays_removed_with_no_checkpoint()
    {
        var checkpoints = new Dictionary<string, Item>(StringComparer.Ordinal);
        var saving = new TaskCompletionSource();
        var releaseSave = new TaskCompletionSource();
        var store = new ObjectStore<Item>(
            "item",
            i => i.Id,
            async (item, _) =>
            {
                if (item.Value == 2)
                {
                    saving.TrySetResult();
                    await releaseSave.Task;
                }

                lock (checkpoints)
                {
                    checkpoints[item.Id] = item;
                }
            },
            (item, _) =>
            {
                lock (checkpoints)
                {
                    checkpoints.Remove(item.Id);
                }

                return Task.CompletedTask;
            });
        await store.AddAsync(new Item("a", 1), CancellationToken.None);

        // An exit being recorded (a slow checkpoint) while the object is removed.
        var update = store.UpdateAsync("a", i => i with { Value = 2 }, CancellationToken.None);
        await saving.Task;
        var removal = store.RemoveAsync("a", CancellationToken.None);
        await Task.Delay(50);
        Assert.False(removal.IsCompleted, "the removal waits for the update under way");
        releaseSave.SetResult();
        await update;
        await removal;

        Assert.Null(store.Find("a"));
        Assert.Empty(checkpoints);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.UpdateAsync("a", i => i with { Value = 3 }, CancellationToken.None));
        Assert.Null(store.Find("a"));
    }
}
