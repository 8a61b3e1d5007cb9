using System.Text.Json;
using CvmControl.Json;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.Validation;

namespace CvmControl.State;

internal interface IBootstrapRecordStore
{
    /// <summary>The record, or null when there is none or it cannot be trusted (the reason is logged).</summary>
    BootstrapRecord? Load();

    void Save(BootstrapRecord record);
}

internal sealed partial class BootstrapRecordStore(RunDirectory runDir, ILogger<BootstrapRecordStore> logger) : IBootstrapRecordStore
{
    private const int MaxRecordBytes = 1024 * 1024;

    public BootstrapRecord? Load()
    {
        var path = runDir.BootstrapRecord;
        byte[] bytes;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            if (new FileInfo(path).Length > MaxRecordBytes)
            {
                LogUnusable(logger, path, "larger than 1 MiB");
                return null;
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUnusable(logger, path, ex.Message);
            return null;
        }

        BootstrapRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(bytes, CvmJsonContext.Default.BootstrapRecord);
        }
        catch (JsonException ex)
        {
            LogUnusable(logger, path, ex.Message);
            return null;
        }

        var problem = record is null ? "empty record" : Problem(record);
        if (problem is not null)
        {
            LogUnusable(logger, path, problem);
            return null;
        }
        return record;
    }

    public void Save(BootstrapRecord record)
    {
        AtomicFile.EnsureDirectory(runDir.Root, RunDirectory.DirectoryMode);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, CvmJsonContext.Default.BootstrapRecord);
        AtomicFile.Write(runDir.BootstrapRecord, bytes, RunDirectory.PrivateFileMode);
    }

    /// <summary>The same rules as a request: a tampered record must not smuggle in a path.</summary>
    internal static string? Problem(BootstrapRecord record)
    {
        if (record.Version != BootstrapRecord.CurrentVersion)
        {
            return $"unsupported version {record.Version}";
        }
        if (string.IsNullOrEmpty(record.UserId) || !Names.IsEnvValue(record.UserId))
        {
            return "invalid user_id";
        }
        if (record.Volumes is null || record.Volumes.Count == 0)
        {
            return "no volumes";
        }
        foreach (var (name, volume) in record.Volumes)
        {
            if (!Names.IsDmName(name) || volume is null || !Names.IsVolumeId(volume.VolumeId ?? "") || MountPoints.Check(volume.MountPoint ?? "") is not null)
            {
                return $"invalid volume entry {name}";
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring bootstrap record {Path}: {Reason}")]
    private static partial void LogUnusable(ILogger logger, string path, string reason);
}
