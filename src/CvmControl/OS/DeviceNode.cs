using System.Runtime.InteropServices;

namespace CvmControl.OS;

/// <summary>
/// What a device node stands for. Without udev (the VM guests, minimal images) <c>/dev/mapper/&lt;name&gt;</c>
/// is a node that libdevmapper made, not a symlink to <c>dm-N</c>, so its name says nothing: only its
/// rdev (major:minor) identifies the device.
/// </summary>
internal static partial class DeviceNode
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int NoSuchFile = 2;
    private const int NotADirectory = 20;
    private const ushort FileTypeMask = 0xF000; // S_IFMT
    private const ushort BlockDevice = 0x6000; // S_IFBLK

    // struct statx is the same on every architecture: stx_mode (u16) at 28, stx_rdev_major/minor (u32) at 128/132.
    private const int StatxSize = 256;

    /// <summary>
    /// The device number of the block device at <paramref name="path"/> (symlinks followed); null when
    /// nothing is there or it is not a block device.
    /// </summary>
    /// <exception cref="IOException">statx failed for another reason (permissions, I/O).</exception>
    public static unsafe DeviceNumber? BlockDeviceNumber(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is NoSuchFile or NotADirectory
                ? null
                : throw new IOException($"statx {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var stat = new ReadOnlySpan<byte>(buffer, StatxSize);
        var mode = MemoryMarshal.Read<ushort>(stat[28..]);
        return (mode & FileTypeMask) != BlockDevice
            ? null
            : new DeviceNumber(MemoryMarshal.Read<uint>(stat[128..]), MemoryMarshal.Read<uint>(stat[132..]));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
