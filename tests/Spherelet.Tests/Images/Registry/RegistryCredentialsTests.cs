using System.Text;
using Spherelet.Images;
using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryCredentialsTests
{
    [Fact]
    public void FromAuthConfig_decodes_the_auth_field_into_username_and_password()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret:with:colons"));

        var credentials = RegistryCredentials.FromAuthConfig(null, null, auth, null, null);

        Assert.Equal(new RegistryCredentials("alice", "s3cret:with:colons", null, null), credentials);
    }

    [Fact]
    public void FromAuthConfig_prefers_an_explicit_username_and_password_to_the_auth_field()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("other:pw"));

        var credentials = RegistryCredentials.FromAuthConfig("alice", "pw1", auth, null, null);

        Assert.Equal(new RegistryCredentials("alice", "pw1", null, null), credentials);
    }

    [Fact]
    public void FromAuthConfig_keeps_identity_and_registry_tokens()
    {
        Assert.Equal(new RegistryCredentials(null, null, "refresh", null), RegistryCredentials.FromAuthConfig("", "", "", "refresh", ""));
        Assert.Equal(new RegistryCredentials(null, null, null, "bearer"), RegistryCredentials.FromAuthConfig(null, null, null, null, "bearer"));
    }

    [Fact]
    public void FromAuthConfig_returns_null_when_nothing_is_given()
    {
        Assert.Null(RegistryCredentials.FromAuthConfig(null, null, null, null, null));
        Assert.Null(RegistryCredentials.FromAuthConfig("", "", "", "", ""));
    }

    [Theory]
    [InlineData("not base64!!")]
    [InlineData("bm9jb2xvbg==")]
    public void FromAuthConfig_rejects_an_auth_field_that_is_not_base64_user_colon_password_without_echoing_it(string auth)
    {
        var error = Assert.Throws<ImageException>(() => RegistryCredentials.FromAuthConfig(null, null, auth, null, null));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
        Assert.DoesNotContain(auth, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_never_shows_a_secret()
    {
        var text = new RegistryCredentials("alice", "pw-secret", "id-secret", "token-secret").ToString();

        Assert.Contains("alice", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
    }
}
