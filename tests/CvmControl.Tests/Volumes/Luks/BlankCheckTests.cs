using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes.Luks;

public sealed class BlankCheckTests : IDisposable
{
    private const long Size = 256L * 1024 * 1024;
    private readonly TempDir _dir = new();
    private readonly BlankCheck _check;

    public BlankCheckTests()
    {
        _check = new BlankCheck(Options.Create(new DeviceOptions { SysRoot = _dir.Combine("sys") }));
    }

    private string Disk(long size = Size)
    {
        var path = _dir.Combine("disk.img");
        using var stream = File.Create(path);
        stream.SetLength(size);
        return path;
    }

    private static void Write(string path, long offset, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(bytes);
    }

    [Fact]
    public void An_all_zero_disk_is_blank()
    {
        _check.FindData(Disk()).Should().BeNull();
    }

    [Fact]
    public void A_byte_in_the_header_area_is_found()
    {
        var disk = Disk();
        Write(disk, 5 * 1024 * 1024 + 3, [0x41]);

        _check.FindData(disk).Should().Be($"non-zero bytes at offset {5 * 1024 * 1024 + 3}");
    }

    [Fact]
    public void Ciphertext_left_behind_a_wiped_header_is_found_by_sampling()
    {
        // A wiped header: the first 16 MiB are zeros, but the old encrypted data is still there.
        var disk = Disk();
        var noise = new byte[1024 * 1024];
        Random.Shared.NextBytes(noise);
        for (long offset = 16L * 1024 * 1024; offset < Size; offset += noise.Length)
        {
            Write(disk, offset, noise);
        }

        _check.FindData(disk).Should().StartWith("non-zero bytes at offset ");
    }

    [Fact]
    public void The_last_block_is_always_sampled()
    {
        var disk = Disk();
        Write(disk, Size - 1, [0x01]);

        _check.FindData(disk).Should().Be($"non-zero bytes at offset {Size - 1}");
    }

    [Fact]
    public void Samples_are_64_spread_aligned_blocks_past_the_header_ending_at_the_last_block()
    {
        var offsets = BlankCheck.SampleOffsets(Size);

        offsets.Should().HaveCount(64).And.OnlyContain(o => o % 4096 == 0 && o >= 16L * 1024 * 1024);
        offsets[^1].Should().Be(Size - 4096);
        offsets.Should().BeInAscendingOrder();
    }

    [Fact]
    public void A_device_smaller_than_the_header_area_is_checked_whole()
    {
        var disk = Disk(8 * 1024 * 1024);
        BlankCheck.SampleOffsets(8 * 1024 * 1024).Should().BeEmpty();
        _check.FindData(disk).Should().BeNull();
        Write(disk, 8 * 1024 * 1024 - 1, [0x01]);
        _check.FindData(disk).Should().NotBeNull();
    }

    [Fact]
    public void A_device_that_is_not_a_whole_number_of_mebibytes_is_read_to_its_last_byte()
    {
        const long size = (3 * 1024 * 1024 / 2) + 100;
        var disk = Disk(size);

        _check.FindData(disk).Should().BeNull();
        Write(disk, size - 1, [0x01]);
        _check.FindData(disk).Should().Be($"non-zero bytes at offset {size - 1}");
    }

    [Fact]
    public void A_device_of_exactly_the_header_area_needs_no_samples()
    {
        BlankCheck.SampleOffsets(BlankCheck.HeaderAreaBytes).Should().BeEmpty();
        _check.FindData(Disk(BlankCheck.HeaderAreaBytes)).Should().BeNull();
    }

    public void Dispose() => _dir.Dispose();
}
