using Spherelet.Images;

namespace Spherelet.Tests.Images.Registry;

public sealed class ImageReferenceTests
{
    private const string Hex = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string Digest = "sha256:" + Hex;

    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("busybox:1.36", "docker.io", "library/busybox", "1.36", null, "docker.io/library/busybox:1.36")]
    [InlineData("user/app", "docker.io", "user/app", "latest", null, "docker.io/user/app:latest")]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", null, "docker.io/library/busybox:1")]
    [InlineData("docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("127.0.0.1:5000/x/y:1", "127.0.0.1:5000", "x/y", "1", null, "127.0.0.1:5000/x/y:1")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("localhost:5000/team/app:v2", "localhost:5000", "team/app", "v2", null, "localhost:5000/team/app:v2")]
    [InlineData("quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", null, "quay.io/coreos/etcd:v3.5.0")]
    [InlineData("registry.example/a/b/c__d-e.f_g--h", "registry.example", "a/b/c__d-e.f_g--h", "latest", null, "registry.example/a/b/c__d-e.f_g--h:latest")]
    [InlineData("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", null, "[::1]:5000/app:v1")]
    [InlineData("busybox:Tag_1.x-Y", "docker.io", "library/busybox", "Tag_1.x-Y", null, "docker.io/library/busybox:Tag_1.x-Y")]
    [InlineData("busybox@" + Digest, "docker.io", "library/busybox", null, Digest, "docker.io/library/busybox@" + Digest)]
    [InlineData("registry.example:443/a/b:tag@" + Digest, "registry.example:443", "a/b", "tag", Digest, "registry.example:443/a/b:tag@" + Digest)]
    [InlineData("127.0.0.1:5000/x@" + Digest, "127.0.0.1:5000", "x", null, Digest, "127.0.0.1:5000/x@" + Digest)]
    public void Parse_normalises_like_the_kubelet(string input, string registry, string repository, string? tag, string? digest, string canonical)
    {
        var reference = ImageReference.Parse(input);

        Assert.Equal(new ImageReference(registry, repository, tag, digest), reference);
        Assert.Equal(canonical, reference.ToString());
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lowercase")]
    [InlineData("docker.io/Library/busybox", "lowercase")]
    [InlineData("127.0.0.1:5000/Team/app", "lowercase")]
    [InlineData("busybox:", "tag")]
    [InlineData(":latest", "empty")]
    [InlineData("busybox:-tag", "tag")]
    [InlineData("busybox:tag with space", "tag")]
    [InlineData("busybox@sha256:abc", "digest")]
    [InlineData("busybox@sha256:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "digest")]
    [InlineData("busybox@sha512:" + Hex + Hex, "not supported")]
    [InlineData("busybox@", "digest")]
    [InlineData("a//b", "repository name")]
    [InlineData("-app", "repository name")]
    [InlineData("app-", "repository name")]
    [InlineData("a b", "repository name")]
    [InlineData("app/", "repository name")]
    [InlineData("127.0.0.1:5000/", "repository name")]
    [InlineData("my_host.example:port/app", "host")]
    [InlineData("-bad.example/app", "host")]
    [InlineData(Hex, "image ID")]
    public void Parse_rejects_what_the_grammar_does_not_allow(string input, string reason)
    {
        var error = Assert.Throws<ImageException>(() => ImageReference.Parse(input));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{input}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_rejects_a_tag_longer_than_128_characters()
    {
        Assert.Equal("docker.io/library/app:" + new string('t', 128), ImageReference.Parse("app:" + new string('t', 128)).ToString());
        Assert.Equal(ImageErrorKind.Invalid, Assert.Throws<ImageException>(() => ImageReference.Parse("app:" + new string('t', 129))).Kind);
    }

    [Fact]
    public void Parse_rejects_a_name_longer_than_255_characters()
    {
        var longest = "registry.example/" + new string('a', 255 - "registry.example/".Length);
        Assert.Equal(longest, ImageReference.Parse(longest).RepoTag[..^":latest".Length]);
        var error = Assert.Throws<ImageException>(() => ImageReference.Parse(longest + "a"));
        Assert.Contains("255", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RepoTag_and_RepoDigest_name_the_repository_with_its_tag_or_a_digest()
    {
        var tagged = ImageReference.Parse("127.0.0.1:5000/x/y:1");
        var digestOnly = ImageReference.Parse("busybox@" + Digest);

        Assert.Equal("127.0.0.1:5000/x/y:1", tagged.RepoTag);
        Assert.Equal("127.0.0.1:5000/x/y@" + Digest, tagged.RepoDigest(Digest));
        Assert.Equal(string.Empty, digestOnly.RepoTag);
        Assert.Equal("docker.io/library/busybox@" + Digest, digestOnly.RepoDigest(Digest));
    }
}
