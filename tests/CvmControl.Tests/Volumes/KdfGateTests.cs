using CvmControl.Volumes;

namespace CvmControl.Tests.Volumes;

public sealed class KdfGateTests : IDisposable
{
    private const long GiB = 1024L * 1024 * 1024;
    private readonly TempDir _dir = new();

    [Theory]
    [InlineData(2 * GiB, GiB, 1)]
    [InlineData(4 * GiB, GiB, 3)]
    [InlineData(16 * GiB, GiB, 8)]
    [InlineData(GiB / 2, GiB, 1)]
    [InlineData(8 * GiB, 256L * 1024 * 1024, 8)]
    [InlineData(2 * GiB, 512L * 1024 * 1024, 3)]
    [InlineData(3, 0, 2)]
    public void Slots_are_three_quarters_of_available_memory_over_the_cost_from_1_to_8(long available, long cost, int slots)
    {
        KdfGate.SlotsFor(available, cost).Should().Be(slots);
    }

    [Fact]
    public void Available_memory_comes_from_the_MemAvailable_line_in_kib()
    {
        var meminfo = _dir.Combine("meminfo");
        File.WriteAllText(meminfo, "MemTotal:        2014256 kB\nMemFree:          102400 kB\nMemAvailable:    1536000 kB\nBuffers:            2048 kB\n");

        KdfGate.ReadAvailableBytes(meminfo).Should().Be(1536000L * 1024);
    }

    [Theory]
    [InlineData("MemTotal:        2014256 kB\n")]
    [InlineData("MemAvailable:    lots kB\n")]
    public void Meminfo_without_a_readable_MemAvailable_gives_nothing(string text)
    {
        var meminfo = _dir.Combine("meminfo");
        File.WriteAllText(meminfo, text);

        KdfGate.ReadAvailableBytes(meminfo).Should().BeNull();
        KdfGate.ReadAvailableBytes(_dir.Combine("missing")).Should().BeNull();
    }

    public void Dispose() => _dir.Dispose();
}
