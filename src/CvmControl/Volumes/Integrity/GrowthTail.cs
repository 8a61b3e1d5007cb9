using System.Buffers.Binary;

namespace CvmControl.Volumes.Integrity;

/// <summary>
/// Finishes a growth that a power cut interrupted. <c>integritysetup resize --wipe</c> first records the
/// new size, then writes zeros over the added area to give it valid tags; a cut in between leaves the
/// rest of that area unreadable (every read fails its check), and a second resize has nothing to do.
/// The filesystem only ever grows after a resize has finished, so whatever lies past its end holds no
/// data. When the device's last block does not read, this writes zeros from the filesystem's end to the
/// device's end through dm-crypt, which gives every block there a valid tag. A cut during this write
/// leaves the last block unreadable again, so the next open simply does it again.
/// </summary>
internal static class GrowthTail
{
    private const int SuperblockOffset = 1024;
    private const int SuperblockBytes = 1024;
    private const ushort Ext4Magic = 0xEF53;
    private const uint Incompat64Bit = 0x80;
    private const int ChunkBytes = 1024 * 1024;

    /// <summary>The filesystem's size in bytes from an ext2/3/4 superblock, or null when there is none.</summary>
    public static long? FileSystemBytes(ReadOnlySpan<byte> superblock)
    {
        if (superblock.Length < SuperblockBytes || BinaryPrimitives.ReadUInt16LittleEndian(superblock[0x38..]) != Ext4Magic)
        {
            return null;
        }
        var logBlock = BinaryPrimitives.ReadUInt32LittleEndian(superblock[0x18..]);
        if (logBlock > 6)
        {
            return null;
        }
        ulong blocks = BinaryPrimitives.ReadUInt32LittleEndian(superblock[0x04..]);
        if ((BinaryPrimitives.ReadUInt32LittleEndian(superblock[0x60..]) & Incompat64Bit) != 0)
        {
            blocks |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(superblock[0x150..]) << 32;
        }
        var bytes = blocks << (int)(10 + logBlock);
        return bytes is 0 or > long.MaxValue ? null : (long)bytes;
    }

    /// <summary>
    /// Zeros from the filesystem's end to the end of <paramref name="mapping"/> when its last block does
    /// not read; returns the bytes written (0 when nothing was to do). Nothing is written when there is
    /// no readable ext4 superblock, or when the filesystem already reaches the end.
    /// </summary>
    public static long Finish(string mapping, long deviceBytes)
    {
        using var stream = new FileStream(mapping, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.WriteThrough);
        var superblock = new byte[SuperblockBytes];
        if (!TryRead(stream, SuperblockOffset, superblock) || FileSystemBytes(superblock) is not { } fileSystem || fileSystem >= deviceBytes)
        {
            return 0;
        }
        var last = new byte[4096];
        if (TryRead(stream, deviceBytes - last.Length, last))
        {
            return 0;
        }
        var zeros = new byte[ChunkBytes];
        for (var offset = fileSystem; offset < deviceBytes; offset += ChunkBytes)
        {
            stream.Position = offset;
            stream.Write(zeros, 0, (int)Math.Min(ChunkBytes, deviceBytes - offset));
        }
        stream.Flush(flushToDisk: true);
        return deviceBytes - fileSystem;
    }

    private static bool TryRead(FileStream stream, long offset, byte[] buffer)
    {
        try
        {
            stream.Position = offset;
            stream.ReadExactly(buffer);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
