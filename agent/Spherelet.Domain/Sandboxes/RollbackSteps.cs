namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// The undo steps of a multi-step operation, run newest first when a later step fails.
/// Every step runs even when one before it failed; the failures are returned.
/// </summary>
public sealed class RollbackSteps
{
    private readonly Stack<(string What, Func<Task> Undo)> _steps = new();

    public void Push(string what, Func<Task> undo) => _steps.Push((what, undo));

    /// <returns>What could not be undone, with why.</returns>
    public async Task<IReadOnlyList<string>> UndoAllAsync()
    {
        var failures = new List<string>();
        while (_steps.TryPop(out var step))
        {
            try
            {
                await step.Undo();
            }
#pragma warning disable CA1031 // Each undo step runs whatever the one before it threw; failures are reported.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures.Add($"{step.What}: {e.Message}");
            }
        }

        return failures;
    }
}
