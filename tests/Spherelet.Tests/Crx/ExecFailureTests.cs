using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>crun's failures to run an exec's command become a shell's exit codes; other failures stay errors.</summary>
public sealed class ExecFailureTests
{
    [Fact]
    public void A_command_not_in_PATH_exits_127_with_crun_s_reason()
    {
        var failure = ExecFailure.FromCrun("crun exec abc failed with exit code 1: executable file `nosuch` not found in $PATH: No such file or directory");

        Assert.Equal((127, "executable file `nosuch` not found in $PATH: No such file or directory\n"), failure);
    }

    [Fact]
    public void A_file_that_cannot_be_executed_exits_126()
    {
        var failure = ExecFailure.FromCrun("crun exec abc failed with exit code 1: open executable: Permission denied");

        Assert.Equal((126, "open executable: Permission denied\n"), failure);
    }

    [Fact]
    public void A_missing_absolute_path_exits_127()
    {
        Assert.Equal(127, ExecFailure.FromCrun("crun exec abc failed with exit code 1: open executable: No such file or directory")?.ExitCode);
    }

    [Fact]
    public void Other_crun_failures_are_not_exits()
    {
        Assert.Null(ExecFailure.FromCrun("crun exec abc failed with exit code 1: container abc is not running"));
    }
}
