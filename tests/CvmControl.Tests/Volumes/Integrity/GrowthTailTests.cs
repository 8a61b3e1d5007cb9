using System.Buffers.Binary;
using CvmControl.Volumes.Integrity;
using FluentAssertions;
using Xunit;

namespace CvmControl.Tests.Volumes.Integrity;

public sealed class GrowthTailTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "growth-tail-" + Guid.NewGuid().ToString("N"));

    /// <summary>An ext4 superblock (the 1024 bytes at offset 1024) of <paramref name="blocks"/> blocks of 1024 &lt;&lt; <paramref name="logBlock"/> bytes.</summary>
    private static byte[] Superblock(ulong blocks, uint logBlock = 2, bool is64Bit = false)
    {
        var sb = new byte[1024];
        BinaryPrimitives.WriteUInt16LittleEndian(sb.AsSpan(0x38), 0xEF53);
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(0x04), (uint)blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(0x18), logBlock);
        if (is64Bit)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(0x60), 0x80);
            BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(0x150), (uint)(blocks >> 32));
        }
        return sb;
    }

    [Fact]
    public void The_filesystem_size_is_its_block_count_times_its_block_size()
    {
        GrowthTail.FileSystemBytes(Superblock(25442)).Should().Be(25442L * 4096);
        GrowthTail.FileSystemBytes(Superblock(1000, logBlock: 0)).Should().Be(1000L * 1024);
    }

    [Fact]
    public void The_high_half_of_the_block_count_counts_only_with_the_64bit_feature()
    {
        var blocks = (1UL << 32) + 5;
        GrowthTail.FileSystemBytes(Superblock(blocks, is64Bit: true)).Should().Be((long)(blocks * 4096));

        var without = Superblock(5);
        BinaryPrimitives.WriteUInt32LittleEndian(without.AsSpan(0x150), 1);
        GrowthTail.FileSystemBytes(without).Should().Be(5L * 4096);
    }

    [Fact]
    public void Anything_but_an_ext_superblock_has_no_size()
    {
        GrowthTail.FileSystemBytes(new byte[1024]).Should().BeNull();
        GrowthTail.FileSystemBytes(Superblock(10)[..512]).Should().BeNull();
        GrowthTail.FileSystemBytes(Superblock(10, logBlock: 7)).Should().BeNull();
        GrowthTail.FileSystemBytes(Superblock(0)).Should().BeNull();
    }

    [Fact]
    public void A_device_whose_last_block_reads_is_left_as_it_is()
    {
        var bytes = new byte[64 * 1024];
        Superblock(4).CopyTo(bytes, 1024);
        bytes.AsSpan(16 * 1024).Fill(0xAB);
        File.WriteAllBytes(_file, bytes);

        GrowthTail.Finish(_file, bytes.Length).Should().Be(0);

        File.ReadAllBytes(_file).Should().Equal(bytes);
    }

    [Fact]
    public void A_device_without_a_filesystem_is_never_written()
    {
        var bytes = new byte[16 * 1024];
        bytes.AsSpan(4096).Fill(0xCD);
        File.WriteAllBytes(_file, bytes);

        // Longer than the file: the last block does not read, but there is no superblock to bound a write.
        GrowthTail.Finish(_file, 64 * 1024).Should().Be(0);

        File.ReadAllBytes(_file).Should().Equal(bytes);
    }

    [Fact]
    public void Past_an_unreadable_end_the_tail_after_the_filesystem_is_zeroed_and_the_filesystem_kept()
    {
        // A stand-in for a device whose last block fails to read: the file ends before the size given.
        var bytes = new byte[16 * 1024];
        Superblock(2).CopyTo(bytes, 1024);
        bytes.AsSpan(8 * 1024).Fill(0xEE);
        File.WriteAllBytes(_file, bytes);

        var written = GrowthTail.Finish(_file, 24 * 1024);

        written.Should().Be(16 * 1024);
        var after = File.ReadAllBytes(_file);
        after.Should().HaveCount(24 * 1024);
        after.AsSpan(0, 8 * 1024).ToArray().Should().Equal(bytes.AsSpan(0, 8 * 1024).ToArray());
        after.AsSpan(8 * 1024).ToArray().Should().OnlyContain(b => b == 0);
    }

    public void Dispose() => File.Delete(_file);
}
