using CvmControl.Json;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.State;
using CvmControl.Validation;
using CvmControl.Volumes;

namespace CvmControl.Operations;

internal interface IBootstrapService
{
    BootstrapAdmission Submit(BootstrapPlan plan);
}

/// <summary>Admits a bootstrap, then provisions files and runs every volume in parallel in the background.</summary>
internal sealed partial class BootstrapService(
    OperationTracker tracker,
    RequestDigest digest,
    BackgroundOperations background,
    IProvisioner provisioner,
    IVolumePipeline pipeline,
    IBootstrapRecordStore records,
    TimeProvider time,
    ILogger<BootstrapService> logger) : IBootstrapService
{
    public BootstrapAdmission Submit(BootstrapPlan plan)
    {
        var admission = tracker.BeginBootstrap(plan, digest.Of(plan));
        if (admission.Decision == BootstrapDecision.Start)
        {
            var operation = admission.Operation!;
            LogStarted(logger, plan.Volumes.Count);
            background.Start("bootstrap", stopping => RunAsync(operation, plan, stopping));
        }
        return admission;
    }

    /// <summary>
    /// Volumes first, files second: env and secret files appear only once every volume is mounted, so a
    /// workload that waits for them never starts with its data missing, and a failed attempt leaves no
    /// secret on disk.
    /// </summary>
    private async Task RunAsync(RunningOperation operation, BootstrapPlan plan, CancellationToken stopping)
    {
        var view = OperationView.Failed("bootstrap did not finish");
        BootstrapRecord? record = null;
        try
        {
            var outcomes = await VolumeRuns.RunAllAsync(
                plan.Volumes,
                v => v.Target.DmName,
                (v, step) => pipeline.BootstrapAsync(v.Target, v.Passphrase, stopping, step),
                plan.Passphrases,
                tracker.Progress,
                logger);
            view = OperationView.FromOutcomes(outcomes, includeVolumesOnSuccess: false);
            if (!outcomes.Values.All(o => o.Ok))
            {
                return;
            }

            try
            {
                provisioner.Provision(plan);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogProvisioningFailed(logger, ex.Message);
                view = OperationView.Failed($"provisioning failed: {ex.Message}");
                return;
            }

            var completed = BootstrapRecord.From(plan.UserId, plan.Targets, time.GetUtcNow());
            try
            {
                records.Save(completed);
                record = completed;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                view = OperationView.Failed($"writing bootstrap record failed: {ex.Message}");
            }
        }
        finally
        {
            tracker.FinishBootstrap(operation, view, record);
            LogFinished(logger, view.Status, view.Error ?? "");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bootstrap started with {Volumes} volume(s)")]
    private static partial void LogStarted(ILogger logger, int volumes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bootstrap {Status} {Error}")]
    private static partial void LogFinished(ILogger logger, string status, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Provisioning failed: {Reason}")]
    private static partial void LogProvisioningFailed(ILogger logger, string reason);
}
