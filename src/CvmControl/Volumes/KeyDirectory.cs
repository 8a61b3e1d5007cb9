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
}
