using Spherelet.Microvm;

namespace Spherelet.Tests.Microvm;

public sealed class ProcessStatTests
{
    [Fact]
    public void Fields_are_counted_after_the_last_parenthesis_so_a_command_name_with_spaces_and_parentheses_cannot_shift_them()
    {
        var line = "4438 (qemu (x) y) S 1 4438 4438 0 -1 4194560 66310 0 0 0 1234 567 0 0 20 0 5 0 987654 1599471616 38129 18446744073709551615";

        var stat = ProcessStat.Parse(line);

        Assert.NotNull(stat);
        Assert.Equal('S', stat.State);
        Assert.Equal(987654ul, stat.StartTicks);
        Assert.Equal(1234ul + 567ul, stat.CpuTicks);
        Assert.True(stat.Alive);
    }

    [Fact]
    public void A_zombie_is_not_alive_and_a_cut_line_is_no_stat()
    {
        Assert.False(ProcessStat.Parse("9 (qemu) Z 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0 0")!.Alive);
        Assert.Null(ProcessStat.Parse("9 (qemu) S 1 9"));
        Assert.Null(ProcessStat.Parse("garbage"));
    }

    [Fact]
    public void The_running_test_process_reads_as_alive_with_a_start_time()
    {
        var stat = ProcessStat.Read(Environment.ProcessId);

        Assert.NotNull(stat);
        Assert.True(stat.Alive);
        Assert.True(stat.StartTicks > 0);
        Assert.Null(ProcessStat.Read(0));
    }
}
