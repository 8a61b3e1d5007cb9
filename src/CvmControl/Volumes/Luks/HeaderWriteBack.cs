using CvmControl.Tools;

namespace CvmControl.Volumes.Luks;

/// <summary>
/// Writes a changed header copy back to its device, so that what was checked is what is acted on:
/// cryptsetup changes a private copy of the checked header (<see cref="CheckedHeader.Edit"/>), never the
/// live device. Right before writing, the device's header area must still be byte-identical to the copy
/// as it was checked, and what is written must pass the policy too; afterwards the device is read back
/// and must hold exactly the changed copy.
/// </summary>
internal sealed partial class HeaderWriteBack(HeaderGuard headers, ILogger<HeaderWriteBack> logger)
{
    public const string Changed = "LUKS2 header changed since it was checked";
    public const string Unverified = "LUKS2 header write-back could not be verified";

    /// <summary>
    /// Writes <paramref name="changed"/> back and returns its verdict: once this returns, the device holds
    /// exactly that copy, and the copy passed the policy.
    /// </summary>
    /// <exception cref="VolumeOperationException">Nothing was written (the header changed, or the change fails the policy), or the write could not be made or verified.</exception>
    /// <exception cref="ToolFailure">cryptsetup could not copy or read a header.</exception>
    public async Task<LuksHeaderPolicy.Verdict> CommitAsync(CheckedHeader original, WorkingHeader changed, CancellationToken cancellationToken)
    {
        var device = original.Device;
        var verdict = await CheckPolicyAsync(changed.Path, cancellationToken);

        // The host may have rewritten the header since the check; then the change is not ours to apply.
        var now = await headers.CopyAsync(device, cancellationToken);
        try
        {
            if (!HeaderGuard.HashOf(now).AsSpan().SequenceEqual(original.Sha256.Span))
            {
                throw new VolumeOperationException(Changed, $"{device}: its header area no longer matches the copy that was checked; nothing was written");
            }
        }
        finally
        {
            HeaderGuard.Delete(now);
        }

        int blocks;
        try
        {
            IReadOnlyList<IReadOnlyList<HeaderRange>> plan;
            using (var checkedCopy = OpenChecked(original))
            using (var changedCopy = File.OpenRead(changed.Path))
            {
                plan = HeaderWritePlan.Of(checkedCopy, changedCopy, original.Verdict.HeaderSize);
            }
            blocks = plan.Sum(phase => phase.Sum(r => r.Length)) / HeaderWritePlan.Block;
            HeaderWritePlan.Apply(device, changed.Path, plan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VolumeOperationException("writing the LUKS2 header failed", $"{device}: {ex.Message}");
        }

        var after = await headers.CopyAsync(device, cancellationToken);
        try
        {
            if (!HeaderGuard.HashOf(after).AsSpan().SequenceEqual(HeaderGuard.HashOf(changed.Path)))
            {
                throw new VolumeOperationException(Unverified, $"{device}: read back after writing, its header area differs from what was written");
            }
        }
        finally
        {
            HeaderGuard.Delete(after);
        }
        LogWritten(logger, device, blocks);
        return verdict;
    }

    private async Task<LuksHeaderPolicy.Verdict> CheckPolicyAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await headers.CheckCopyAsync(path, cancellationToken);
        }
        catch (HeaderRejected rejected)
        {
            throw new VolumeOperationException("LUKS2 header rejected", $"the changed header would not pass the policy, so nothing was written: {rejected.Message}");
        }
    }

    /// <summary>The checked copy, provided it is still what was checked (cryptsetup may repair a copy it opens).</summary>
    private static FileStream OpenChecked(CheckedHeader original)
    {
        if (!HeaderGuard.HashOf(original.Path).AsSpan().SequenceEqual(original.Sha256.Span))
        {
            throw new IOException("the checked header copy changed after it was checked");
        }
        return File.OpenRead(original.Path);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote {Blocks} changed block(s) of the LUKS2 header back to {Device}, verified")]
    private static partial void LogWritten(ILogger logger, string device, int blocks);
}
