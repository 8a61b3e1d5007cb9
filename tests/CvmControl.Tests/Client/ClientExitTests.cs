using CvmControl.Client;

namespace CvmControl.Tests.Client;

public sealed class ClientExitTests
{
    [Theory]
    [InlineData(new[] { 0, 0, 0 }, 0)]
    [InlineData(new[] { 0, 4, 0 }, 4)]
    [InlineData(new[] { 4, 1, 0 }, 1)]
    [InlineData(new[] { 4, 1, 3, 0 }, 3)]
    [InlineData(new[] { 130, 4 }, 4)]
    [InlineData(new[] { 0, 130 }, 130)]
    public void A_fleet_exits_with_its_most_serious_code(int[] codes, int expected) =>
        ClientExit.Combine(codes).Should().Be(expected);
}
