using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class AuthChallengeTests
{
    [Fact]
    public void Parses_a_bearer_challenge_with_quoted_commas()
    {
        var challenge = Assert.Single(AuthChallenge.ParseAll("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\""));

        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example/token", challenge.Realm);
        Assert.Equal("registry.example", challenge.Service);
        Assert.Equal("repository:a/b:pull,push", challenge.Scope);
    }

    [Fact]
    public void Parses_several_challenges_in_one_header()
    {
        var challenges = AuthChallenge.ParseAll("Basic realm=\"x\", Bearer realm=\"https://t.example/\", service=svc, error=\"a \\\"quoted\\\" word\"");

        Assert.Equal(["Basic", "Bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("svc", challenges[1].Service);
        Assert.Equal("a \"quoted\" word", challenges[1].Parameters["error"]);
    }
}
