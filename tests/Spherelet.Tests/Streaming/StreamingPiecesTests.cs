using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Spherelet.Domain.Streaming;
using Spherelet.Streaming;

namespace Spherelet.Tests.Streaming;

/// <summary>The streaming server's tokens, its resize channel parsing, its statuses and its session counts.</summary>
public sealed class StreamingPiecesTests
{
    private static readonly ExecStreamRequest Exec = new("c1", ["true"], Tty: false, Stdin: false, Stdout: true, Stderr: true);

    [Fact]
    public void A_token_gives_its_request_once()
    {
        var cache = new StreamRequestCache(new FakeTimeProvider(DateTimeOffset.UtcNow), TimeSpan.FromMinutes(1));
        var token = cache.Insert(Exec);

        Assert.Same(Exec, cache.Take(token));
        Assert.Null(cache.Take(token));
        Assert.Null(cache.Take("not-a-token"));
    }

    [Fact]
    public void Tokens_are_long_random_url_safe_and_expire_after_their_lifetime()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new StreamRequestCache(clock, TimeSpan.FromSeconds(30));
        var tokens = Enumerable.Range(0, 50).Select(_ => cache.Insert(Exec)).ToList();
        var late = cache.Insert(Exec);

        clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(51, tokens.Append(late).Distinct().Count());
        Assert.All(tokens, t => Assert.Matches("^[A-Za-z0-9_-]{43}$", t));
        Assert.Null(cache.Take(late));
        cache.Insert(Exec); // sweeps the expired ones
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Resize_messages_are_read_one_or_several_at_a_time_and_broken_ones_are_skipped()
    {
        Assert.Equal([new TerminalSize(80, 24)], TerminalSize.ParseAll("""{"Width":80,"Height":24}"""u8));
        Assert.Equal([new TerminalSize(80, 24), new TerminalSize(100, 40)], TerminalSize.ParseAll("""{"Width":80,"Height":24}{"Width":100,"Height":40}"""u8));
        Assert.Equal([new TerminalSize(80, 24)], TerminalSize.ParseAll("""{"Width":80,"Height":24}{"Width":"#"""u8));
        Assert.Empty(TerminalSize.ParseAll("""{"Height":24}"""u8));
    }

    [Fact]
    public void Statuses_are_kubernetes_status_objects_with_the_exit_code_as_a_cause_and_text_for_the_older_protocols()
    {
        using var success = JsonDocument.Parse(RemoteCommandStatus.Exited(0).ToJson());
        using var failure = JsonDocument.Parse(RemoteCommandStatus.Exited(42).ToJson());
        using var internalError = JsonDocument.Parse(RemoteCommandStatus.Failed("the guest went away").ToJson());

        Assert.Equal("Success", success.RootElement.GetProperty("status").GetString());
        Assert.Equal("Failure", failure.RootElement.GetProperty("status").GetString());
        Assert.Equal("NonZeroExitCode", failure.RootElement.GetProperty("reason").GetString());
        var cause = failure.RootElement.GetProperty("details").GetProperty("causes")[0];
        Assert.Equal(("ExitCode", "42"), (cause.GetProperty("reason").GetString(), cause.GetProperty("message").GetString()));
        Assert.Equal("the guest went away", internalError.RootElement.GetProperty("message").GetString());
        Assert.StartsWith("{", Encoding.UTF8.GetString(RemoteCommandStatus.Success().ToJson()), StringComparison.Ordinal);
        Assert.Equal(
            (string.Empty, "command terminated with non-zero exit code: 42", "the guest went away"),
            (RemoteCommandStatus.Success().ToText(), RemoteCommandStatus.Exited(42).ToText(), RemoteCommandStatus.Failed("the guest went away").ToText()));
    }

    [Fact]
    public void Sessions_are_counted_open_until_they_end_once_and_in_total_by_kind()
    {
        var sessions = new StreamingSessions();
        var exec = sessions.Begin("exec");
        var attach = sessions.Begin("attach");
        sessions.Begin("exec").Dispose();

        Assert.Equal(2, sessions.Open);
        exec.Dispose();
        exec.Dispose();
        Assert.Equal(1, sessions.Open);
        Assert.Equal((0, 2L), sessions.Snapshot()["exec"]);
        Assert.Equal((1, 1L), sessions.Snapshot()["attach"]);
        attach.Dispose();
        Assert.Equal(0, sessions.Open);
    }
}
