using CvmControl.Validation;
using CvmControl.Volumes;

namespace CvmControl.Operations;

internal interface IPassphraseService
{
    /// <summary>Returns once the request is accepted (old passphrases checked) or refused.</summary>
    Task<PassphraseAdmission> SubmitAsync(PassphrasePlan plan);
}

/// <summary>
/// Admits a rotation only after every old passphrase is proven right (so a wrong one is a 401, not a
/// failed operation), then rotates the volumes in parallel in the background.
/// </summary>
internal sealed partial class PassphraseService(
    OperationTracker tracker,
    RequestDigest digest,
    BackgroundOperations background,
    IPassphraseRotator rotator,
    ILogger<PassphraseService> logger) : IPassphraseService
{
    public async Task<PassphraseAdmission> SubmitAsync(PassphrasePlan plan)
    {
        var admission = tracker.BeginPassphrase(plan, digest.Of(plan));
        switch (admission.Decision)
        {
            case PassphraseDecision.Join:
                LogJoined(logger);
                return await admission.Operation!.Admission.Task;
            case PassphraseDecision.Check:
                break;
            default:
                return admission;
        }

        var operation = admission.Operation!;
        var verdict = new PassphraseAdmission(PassphraseDecision.CheckFailed, "could not check the old passphrase", Detail: "internal error");
        try
        {
            try
            {
                verdict = await CheckOldPassphrasesAsync(plan, admission.Targets!);
            }
            catch (Exception ex)
            {
                // The message of an unexpected exception is not trusted to be free of secrets.
                LogCheckCrashed(logger, ex.GetType().Name);
            }

            if (verdict.Decision == PassphraseDecision.Accepted)
            {
                tracker.AcceptPassphrase(operation);
                LogAccepted(logger, plan.Volumes.Count);
                background.Start("passphrase rotation", stopping => RotateAllAsync(operation, plan, admission.Targets!, stopping));
            }
            else
            {
                tracker.AbandonPassphrase(operation);
                LogRefused(logger, verdict.Reason ?? "");
            }
        }
        finally
        {
            // Identical retries that joined this request wait on this verdict: it must always be set.
            operation.Admission.TrySetResult(verdict);
        }
        return verdict;
    }

    private async Task<PassphraseAdmission> CheckOldPassphrasesAsync(PassphrasePlan plan, IReadOnlyList<VolumeTarget> targets)
    {
        // Not tied to the HTTP request: a client that hangs up must not leave the slot half-decided.
        var checks = await Task.WhenAll(plan.Volumes.Select(async change =>
        {
            var target = targets.Single(t => t.DmName == change.DmName);
            try
            {
                var check = await rotator.CheckAsync(target, change.Old, CancellationToken.None);
                // A revoking rotation that already went through (the answer lost in a crash or a hang-up)
                // is retried with an old passphrase that no longer opens. Knowing the new one, which
                // does, is as good a proof: the retry then finds nothing left to revoke.
                if (check != PassphraseCheck.Opens && change.RevokeOld)
                {
                    check = await rotator.CheckAsync(target, change.New, CancellationToken.None);
                }
                return (change.DmName, Check: check, Failure: (VolumeOperationException?)null);
            }
            catch (VolumeOperationException ex)
            {
                return (change.DmName, Check: PassphraseCheck.DoesNotOpen, Failure: ex);
            }
        }));

        var failures = checks.Where(c => c.Failure is not null).ToList();
        if (failures.Count > 0)
        {
            var secrets = plan.Volumes.SelectMany(v => new[] { v.Old.Value, v.New.Value });
            var detail = string.Join("; ", failures.Select(f => $"{f.DmName}: {f.Failure!.Message}{(f.Failure.Detail is { } d ? ": " + d : "")}"));
            return new(PassphraseDecision.CheckFailed, "could not check the old passphrase", Detail: OS.SecretScrubber.Scrub(detail, secrets));
        }
        var wrong = checks.Where(c => c.Check != PassphraseCheck.Opens).Select(c => c.DmName).ToList();
        return wrong.Count > 0
            ? new(PassphraseDecision.Unauthorized, "old passphrase is wrong", Detail: $"volumes: {string.Join(", ", wrong)}")
            : new(PassphraseDecision.Accepted);
    }

    private async Task RotateAllAsync(RunningOperation operation, PassphrasePlan plan, IReadOnlyList<VolumeTarget> targets, CancellationToken stopping)
    {
        var view = OperationView.Failed("passphrase rotation did not finish");
        try
        {
            var outcomes = await VolumeRuns.RunAllAsync(
                plan.Volumes,
                c => c.DmName,
                (c, step) => RotateOneAsync(targets.Single(t => t.DmName == c.DmName), c, step, stopping),
                plan.Volumes.SelectMany(v => new[] { v.Old.Value, v.New.Value }),
                tracker.Progress,
                logger);
            view = OperationView.FromOutcomes(outcomes, includeVolumesOnSuccess: true);
        }
        finally
        {
            tracker.FinishPassphrase(operation, view);
            LogFinished(logger, view.Status);
        }
    }

    /// <summary>
    /// Add, then (when asked) revoke, as two separate header write-backs: the old passphrase's slots are
    /// only touched once the new passphrase is on disk. A retry after a crash finds the new passphrase
    /// already opening, skips the add and finishes the revoke.
    /// </summary>
    private async Task<VolumeOutcome> RotateOneAsync(VolumeTarget target, PassphraseChangePlan change, Action<string> step, CancellationToken stopping)
    {
        if (change.Old.SameAs(change.New))
        {
            return change.RevokeOld ? VolumeOutcome.Success with { RevokedSlots = [] } : VolumeOutcome.Success;
        }
        return await rotator.RotateAsync(target, change.Old, change.New, change.RevokeOld, stopping, step);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "An identical passphrase request joins the one being checked and shares its answer")]
    private static partial void LogJoined(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Old-passphrase check crashed with {ExceptionType}")]
    private static partial void LogCheckCrashed(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Passphrase rotation accepted for {Volumes} volume(s)")]
    private static partial void LogAccepted(ILogger logger, int volumes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Passphrase rotation refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Passphrase rotation {Status}")]
    private static partial void LogFinished(ILogger logger, string status);
}
