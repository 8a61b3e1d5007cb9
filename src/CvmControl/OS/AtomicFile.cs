using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CvmControl.OS;

/// <summary>
/// Crash-safe file replacement: write a temp file beside the target with its final mode, fsync it,
/// rename it over the target, then fsync the directory so the rename itself is durable.
/// A reader sees the old version or the new one, never a torn one.
/// </summary>
internal static partial class AtomicFile
{
    public const string TempPrefix = ".tmp-";

    public static void Write(string path, ReadOnlySpan<byte> contents, UnixFileMode mode)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? throw new ArgumentException("path has no directory", nameof(path));
        // Fixed length, so any valid file name (up to 255 bytes) can be written.
        var temp = Path.Combine(dir, TempPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            // The umask may have narrowed the create mode; make it exact.
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        FsyncDirectory(dir);
    }

    /// <summary>Creates <paramref name="path"/> if needed and forces its mode (an existing directory may have a looser one).</summary>
    public static void EnsureDirectory(string path, UnixFileMode mode)
    {
        Directory.CreateDirectory(path, mode);
        if (File.GetUnixFileMode(path) != mode)
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    public static void FsyncDirectory(string dir)
    {
        var fd = Open(dir, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw new IOException($"open {dir}: errno {Marshal.GetLastPInvokeError()}");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync {dir}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000; // Same value on x86_64 and aarch64; O_DIRECTORY is not, so it is left out.

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
