using CvmControl.OS;
using CvmControl.Validation;

namespace CvmControl.Provisioning;

/// <summary>
/// Writes every file atomically with its final mode. Afterwards env/ and secret/ hold exactly the
/// requested files: leftovers of an earlier, different attempt are removed, so a secret that the
/// owner dropped from the request does not linger.
/// </summary>
internal sealed partial class FileProvisioner(RunDirectory runDir, ILogger<FileProvisioner> logger) : IProvisioner
{
    public void Provision(BootstrapPlan plan)
    {
        AtomicFile.EnsureDirectory(runDir.Root, RunDirectory.DirectoryMode);
        WriteAll(runDir.EnvDirectory, RunDirectory.DirectoryMode, plan.EnvFiles, RunDirectory.PublicFileMode);
        WriteAll(runDir.SecretDirectory, RunDirectory.SecretDirectoryMode, plan.SecretFiles, RunDirectory.PrivateFileMode);
        AtomicFile.Write(runDir.UserIdFile, EnvFileEncoder.Encode([new("CVM_USER_ID", plan.UserId)]), RunDirectory.PublicFileMode);
        LogProvisioned(logger, plan.EnvFiles.Count, plan.SecretFiles.Count);
    }

    private void WriteAll(string dir, UnixFileMode dirMode, IReadOnlyList<EnvFile> files, UnixFileMode fileMode)
    {
        AtomicFile.EnsureDirectory(dir, dirMode);
        foreach (var file in files)
        {
            AtomicFile.Write(Path.Combine(dir, file.Name), EnvFileEncoder.Encode(file), fileMode);
        }
        var wanted = files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var removed = false;
        foreach (var existing in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(existing);
            if (!wanted.Contains(name))
            {
                File.Delete(existing);
                removed = true;
                LogRemovedStale(logger, dir, name);
            }
        }
        if (removed)
        {
            AtomicFile.FsyncDirectory(dir);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote {EnvFiles} env file(s) and {SecretFiles} secret file(s)")]
    private static partial void LogProvisioned(ILogger logger, int envFiles, int secretFiles);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Name} from {Directory}: not part of the current bootstrap")]
    private static partial void LogRemovedStale(ILogger logger, string directory, string name);
}
