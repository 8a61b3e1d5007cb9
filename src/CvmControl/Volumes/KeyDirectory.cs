using CvmControl.OS;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>
/// The directory for short-lived key files. It must sit on a RAM-backed filesystem, so that a
/// passphrase never reaches a disk the host can read; otherwise the operation is refused.
/// </summary>
internal sealed class KeyDirectory(IOptions<VolumeOptions> options, IMountTable mounts)
{
    private static readonly string[] RamFileSystems = ["tmpfs", "ramfs"];

    public string Prepare()
    {
        var dir = options.Value.KeyDirectory;
        AtomicFile.EnsureDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var fileSystem = mounts.FileSystemOf(dir);
        if (fileSystem is null || !RamFileSystems.Contains(fileSystem))
        {
            throw new VolumeOperationException("refusing to write a key file",
                $"{dir} is on {fileSystem ?? "an unknown filesystem"}, not tmpfs; put --run-dir on tmpfs (e.g. /run/cvm)");
        }
        return dir;
    }

    /// <summary>
    /// Deletes whatever an earlier run left in the directory. Only this daemon writes there, and only
    /// short-lived files: header copies, their edited copies and new-passphrase key files. A kill -9 of
    /// the daemon (tmpfs outlives the process, though not a reboot) can leave them behind, and a key file holds
    /// a passphrase. Called once at start, before any operation can run, so nothing in use is removed.
    /// </summary>
    /// <returns>The names removed.</returns>
    public IReadOnlyList<string> RemoveLeftovers()
    {
        var dir = new DirectoryInfo(options.Value.KeyDirectory);
        if (!dir.Exists)
        {
            return [];
        }
        var removed = new List<string>();
        foreach (var entry in dir.EnumerateFileSystemInfos())
        {
            // Files and links only; a directory there is not ours to walk into.
            if (entry is FileInfo || entry.LinkTarget is not null)
            {
                entry.Delete();
                removed.Add(entry.Name);
            }
        }
        return removed;
    }
}
