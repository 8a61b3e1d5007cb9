using System.Globalization;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Luks;

/// <summary>
/// Proves a device blank before it may be formatted: the first 16 MiB (the LUKS2 header and keyslot
/// area, or the whole device if smaller) and 64 blocks of 4 KiB spread evenly over the rest, the last
/// block included, must all read as zeros. A new EBS volume reads as zeros everywhere; one restored from
/// a snapshot, or whose header was wiped, still holds data or ciphertext, and ciphertext is never zeros.
/// </summary>
internal sealed class BlankCheck(IOptions<DeviceOptions> options)
{
    public const long HeaderAreaBytes = 16L * 1024 * 1024;
    public const int SampleCount = 64;
    public const int BlockBytes = 4096;

    /// <summary>Null when the device is provably blank; otherwise where data was found.</summary>
    public string? FindData(string device)
    {
        var size = SizeOf(device);
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        var buffer = new byte[1024 * 1024];
        var head = Math.Min(size, HeaderAreaBytes);
        for (long offset = 0; offset < head; offset += buffer.Length)
        {
            var length = (int)Math.Min(buffer.Length, head - offset);
            if (ReadAt(stream, offset, buffer.AsSpan(0, length)) is int at)
            {
                return $"non-zero bytes at offset {offset + at}";
            }
        }
        foreach (var offset in SampleOffsets(size))
        {
            if (ReadAt(stream, offset, buffer.AsSpan(0, BlockBytes)) is int at)
            {
                return $"non-zero bytes at offset {offset + at}";
            }
        }
        return null;
    }

    /// <summary>
    /// Whether the device's first 4 KiB read as zeros: what a new disk shows, and what no device with a
    /// LUKS2 primary header shows (its magic is at offset 0). A cheap hint of which checks will be needed,
    /// never a proof of anything.
    /// </summary>
    public static bool FirstBlockIsZeros(string device)
    {
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        var block = new byte[BlockBytes];
        var filled = stream.ReadAtLeast(block, block.Length, throwOnEndOfStream: false);
        return !block.AsSpan(0, filled).ContainsAnyExcept((byte)0);
    }

    /// <summary>Block-aligned offsets spread over [16 MiB, size), the last one being the device's last block.</summary>
    public static IReadOnlyList<long> SampleOffsets(long size)
    {
        if (size <= HeaderAreaBytes)
        {
            return [];
        }
        var last = (size - BlockBytes) / BlockBytes * BlockBytes;
        var span = last - HeaderAreaBytes;
        return [.. Enumerable.Range(0, SampleCount)
            .Select(i => HeaderAreaBytes + span * i / (SampleCount - 1) / BlockBytes * BlockBytes)
            .Append(last)
            .Distinct()];
    }

    /// <summary>Device size: a regular file's length, or the block device's size from sysfs.</summary>
    public long SizeOf(string device)
    {
        var info = new FileInfo(device);
        if ((info.Attributes & FileAttributes.Device) == 0 && info.Length > 0)
        {
            return info.Length;
        }
        var sectors = File.ReadAllText(Path.Combine(options.Value.SysRoot, "class", "block", Path.GetFileName(device), "size")).Trim();
        return long.Parse(sectors, NumberStyles.None, CultureInfo.InvariantCulture) * 512;
    }

    /// <summary>Reads exactly the span at the offset; returns the index of the first non-zero byte, or null.</summary>
    private static int? ReadAt(FileStream stream, long offset, Span<byte> buffer)
    {
        stream.Position = offset;
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = stream.Read(buffer[filled..]);
            if (read == 0)
            {
                throw new IOException($"short read at offset {offset + filled}");
            }
            filled += read;
        }
        var index = buffer.IndexOfAnyExcept((byte)0);
        return index < 0 ? null : index;
    }
}
