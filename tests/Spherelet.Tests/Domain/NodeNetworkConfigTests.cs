using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;

namespace Spherelet.Tests.Domain;

public sealed class NodeNetworkConfigTests
{
    [Theory]
    [InlineData("10.244.1.0/24", "10.244.1.0/24")]
    [InlineData("10.244.1.0/24,fd00:10:244:1::/64", "10.244.1.0/24,fd00:10:244:1::/64")]
    [InlineData(" fd00::/48 , 10.0.0.0/16 ", "fd00::/48,10.0.0.0/16")]
    public void Kubelet_pod_cidr_strings_parse(string text, string canonical)
    {
        Assert.Equal(canonical, NodeNetworkConfig.ParsePodCidrs(text).PodCidrText);
    }

    [Theory]
    [InlineData("10.244.1.0")]
    [InlineData("10.244.1.5/24")]
    [InlineData("10.244.1.0/33")]
    [InlineData("banana/8")]
    [InlineData("10.0.0.0/8,10.1.0.0/16")]
    [InlineData("10.0.0.0/8,fd00::/64,fd01::/64")]
    public void Invalid_pod_cidrs_are_invalid_requests(string text)
    {
        Assert.Throws<InvalidRequestException>(() => NodeNetworkConfig.ParsePodCidrs(text));
    }
}
