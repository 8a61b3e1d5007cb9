using System.Runtime.InteropServices;

namespace CvmControl.OS;

/// <summary>Flags of inherited file descriptors.</summary>
internal static partial class FileDescriptors
{
    private const int GetFdFlags = 1;
    private const int SetFdFlags = 2;
    private const int CloseOnExec = 1;

    /// <summary>
    /// Sets FD_CLOEXEC, as sd_listen_fds(3) does on the sockets it hands over: systemd passes them
    /// inheritable, and every child this daemon starts (cryptsetup, mkfs, systemctl) would otherwise
    /// hold the listening socket open.
    /// </summary>
    /// <exception cref="IOException">The descriptor is not open.</exception>
    public static void SetCloseOnExec(int fd)
    {
        var flags = Fcntl(fd, GetFdFlags, 0);
        if (flags < 0 || Fcntl(fd, SetFdFlags, flags | CloseOnExec) < 0)
        {
            throw new IOException($"file descriptor {fd}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    // fcntl is variadic; on the 64-bit Linux ABIs .NET runs on, an int third argument is passed the same way.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
