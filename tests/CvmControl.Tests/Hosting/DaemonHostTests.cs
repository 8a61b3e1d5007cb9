using System.Net;
using CvmControl.Hosting;

namespace CvmControl.Tests.Hosting;

public sealed class DaemonHostTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("::ffff:10.0.0.5", false)]
    public void Only_loopback_addresses_count_as_safe_without_client_authentication(string address, bool loopback)
    {
        DaemonHost.IsLoopback(IPAddress.Parse(address)).Should().Be(loopback);
    }
}
