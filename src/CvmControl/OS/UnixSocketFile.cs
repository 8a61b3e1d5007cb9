using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CvmControl.OS;

/// <summary>The file of a Unix socket the daemon binds.</summary>
internal static partial class UnixSocketFile
{
    /// <summary>Owner and group may connect (connecting needs write permission); others may not.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// Makes <paramref name="path"/> free for a bind. A socket file that nobody listens on any more (left
    /// by a daemon that was killed) is removed; one that still answers belongs to a live process and is
    /// left alone, and anything that is not a socket is never removed.
    /// </summary>
    /// <exception cref="IOException">The path is taken, or its directory is missing.</exception>
    public static void PrepareForBind(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
        {
            throw new IOException($"{path}: the directory {directory} does not exist (create it with the mode and owner that should govern access)");
        }
        if (!Path.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            return;
        }
        // Judged by the entry itself: a symbolic link is not followed, so nothing it points to is removed.
        if (!IsSocket(path))
        {
            throw new IOException($"{path} exists and is not a socket; it is left alone");
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"{path} is in use: a process is listening on it");
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // Nobody listens: a stale file.
            }
        }
        File.Delete(path);
    }

    /// <summary>After the bind: owner and group only, whatever the umask left.</summary>
    public static void Restrict(string path) => File.SetUnixFileMode(path, Mode);

    /// <summary>The file type of <paramref name="path"/> itself (a link is not followed), from statx(2), whose layout is the same on every architecture.</summary>
    private static bool IsSocket(string path)
    {
        Span<byte> statx = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, ref MemoryMarshal.GetReference(statx)) != 0)
        {
            throw new IOException($"{path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        // struct statx: stx_mode is the 16-bit field at offset 28.
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(statx[28..]);
        return (mode & FileTypeMask) == SocketFileType;
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int FileTypeMask = 0xF000;
    private const int SocketFileType = 0xC000;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, ref byte buffer);
}
