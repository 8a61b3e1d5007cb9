using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Attestation.Client;
using CvmControl.Json;

namespace CvmControl.Client;

/// <summary>
/// One target of an owner command, in three stages. <b>Attest</b>: the check of <c>verify --url</c>,
/// whose verified key every later connection is pinned to. <b>Send</b>: first a status read over a
/// pinned connection, then the request. <b>Follow</b>: poll until the operation ends, reporting every
/// change. Nothing secret is sent unless the attestation passed and the connection carrying it
/// presented the attested key.
/// </summary>
internal sealed class TargetRunner(OwnerPlan plan, Func<VerifyRunner> verifier, TimeProvider time, IProgressSink sink)
{
    public async Task<TargetResult> RunAsync(Uri target, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(plan.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var state = new FollowState();
        TargetResult result;
        try
        {
            result = await RunStagesAsync(target, state, linked.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result = new(target, ClientExit.Interrupted, state.Status, "interrupted", "the daemon carries on; see cvm-control status", state.Volumes);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var last = state.Status is null ? "" : $"; the operation was {state.Status} when last read";
            result = new(target, ClientExit.Unreachable, state.Status, "timed out", $"no end within --timeout {plan.Timeout}{last}{(state.LastError is null ? "" : $"; last error: {state.LastError}")}", state.Volumes);
        }
        catch (KeyChangedException ex)
        {
            result = new(target, ClientExit.AttestationRefused, state.Status, "the daemon's key changed", ex.Message, state.Volumes);
        }
        catch (DaemonUnreachableException ex)
        {
            result = new(target, ClientExit.Unreachable, state.Status, "unreachable", ex.Message, state.Volumes);
        }
        sink.Report(new OwnerEvent
        {
            Target = result.Name,
            Event = OwnerEvents.Done,
            Operation = OperationName,
            Status = result.Status,
            Error = result.Error,
            Detail = result.Detail,
            Volumes = result.Volumes,
            ExitCode = result.ExitCode,
        });
        return result;
    }

    private string OperationName => plan.Operation switch
    {
        OwnerOperation.Bootstrap => "bootstrap",
        OwnerOperation.Rotate => "passphrase",
        OwnerOperation.Shutdown => "shutdown",
        _ => "status",
    };

    /// <summary>What following has seen so far, for the result when it is cut short.</summary>
    private sealed class FollowState
    {
        public string? Status { get; set; }

        public IReadOnlyDictionary<string, VolumeResult>? Volumes { get; set; }

        public string? LastError { get; set; }
    }

    private async Task<TargetResult> RunStagesAsync(Uri target, FollowState state, CancellationToken cancellationToken)
    {
        var name = target.GetLeftPart(UriPartial.Authority);
        byte[]? pin = null;
        if (plan.Operation != OwnerOperation.Status && !plan.SkipAttestation)
        {
            var verification = await verifier().AttestAsync(target, plan.Inputs, cancellationToken);
            var attestation = verification.Report;
            if (verification.Unreachable)
            {
                return new(target, ClientExit.Unreachable, null, "unreachable", attestation.Errors.FirstOrDefault());
            }
            if (!attestation.Verified)
            {
                sink.Report(new OwnerEvent { Target = name, Event = OwnerEvents.Refused, Attestation = attestation, PinnedPubkey = attestation.PinnedPubkey });
                return new(target, ClientExit.AttestationRefused, null, "attestation refused", string.Join("; ", attestation.Errors));
            }
            pin = Convert.FromHexString(attestation.TlsSpkiSha256!);
            sink.Report(new OwnerEvent { Target = name, Event = OwnerEvents.Attested, Attestation = attestation, PinnedPubkey = attestation.PinnedPubkey });
        }

        using var daemon = new PinnedDaemon(target, pin, plan.Inputs.ClientCertificate, plan.ReadTimeout);
        var status = await daemon.GetAsync("/api/v1/status", CvmJsonContext.Default.StatusResponse, cancellationToken);
        if (!status.Ok)
        {
            return new(target, ClientExit.Failed, null, "status refused", status.Describe());
        }
        if (plan.SkipAttestation && plan.Operation != OwnerOperation.Status)
        {
            sink.Report(new OwnerEvent { Target = name, Event = OwnerEvents.AttestationSkipped, PinnedPubkey = daemon.PinnedPubkey });
        }

        return plan.Operation switch
        {
            OwnerOperation.Bootstrap => await OperateAsync(target, daemon, "/api/v1/bootstrap", state, cancellationToken),
            OwnerOperation.Rotate => await OperateAsync(target, daemon, "/api/v1/passphrase", state, cancellationToken),
            OwnerOperation.Shutdown => await ShutdownAsync(target, daemon, cancellationToken),
            _ => await StatusAsync(target, daemon, state, cancellationToken),
        };
    }

    /// <summary>POST the request, then follow the operation to its end.</summary>
    private async Task<TargetResult> OperateAsync(Uri target, PinnedDaemon daemon, string path, FollowState state, CancellationToken cancellationToken)
    {
        var answer = await daemon.PostAsync(path, plan.Request!.Body, CvmJsonContext.Default.StatusResponse, cancellationToken);
        if (!answer.Ok)
        {
            return new(target, ClientExit.Failed, null, "request refused", answer.Describe());
        }
        sink.Report(new OwnerEvent { Target = target.GetLeftPart(UriPartial.Authority), Event = OwnerEvents.Accepted, Operation = OperationName, Status = answer.Value!.Status });
        if (answer.Value.Status == ApiStatus.Ready)
        {
            // An identical bootstrap that already succeeded: nothing ran again.
            return new(target, ClientExit.Done, ApiStatus.Completed);
        }

        string? last = null;
        while (true)
        {
            OperationStatusResponse view;
            try
            {
                var read = await daemon.GetAsync(path, CvmJsonContext.Default.OperationStatusResponse, cancellationToken);
                if (!read.Ok)
                {
                    return new(target, ClientExit.Failed, state.Status, "reading the operation failed", read.Describe(), state.Volumes);
                }
                view = read.Value!;
            }
            catch (DaemonUnreachableException ex)
            {
                // The operation runs on in the daemon; a network blip does not end it. The deadline does.
                state.LastError = ex.Message;
                await Task.Delay(plan.PollInterval, time, cancellationToken);
                continue;
            }
            (state.Status, state.Volumes) = (view.Status, view.Volumes);
            var json = JsonSerializer.Serialize(view, CvmJsonContext.Default.OperationStatusResponse);
            if (json != last)
            {
                last = json;
                sink.Report(new OwnerEvent { Target = target.GetLeftPart(UriPartial.Authority), Event = OwnerEvents.Progress, Operation = OperationName, Status = view.Status, Error = view.Error, Volumes = view.Volumes });
            }
            switch (view.Status)
            {
                case ApiStatus.Completed:
                    return new(target, ClientExit.Done, view.Status, Volumes: view.Volumes);
                case ApiStatus.Failed:
                    return new(target, ClientExit.Failed, view.Status, view.Error ?? "failed", FailedVolumes(view.Volumes), view.Volumes);
                case ApiStatus.Idle:
                    return new(target, ClientExit.Failed, view.Status, "the daemon has no record of the operation", "it may have restarted under the same key");
            }
            await Task.Delay(plan.PollInterval, time, cancellationToken);
        }
    }

    private async Task<TargetResult> ShutdownAsync(Uri target, PinnedDaemon daemon, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ShutdownRequest { UserId = plan.UserId, Reboot = plan.Reboot }, CvmJsonContext.Default.ShutdownRequest);
        var answer = await daemon.PostAsync("/api/v1/shutdown", body, CvmJsonContext.Default.StatusResponse, cancellationToken);
        if (!answer.Ok)
        {
            return new(target, ClientExit.Failed, null, "request refused", answer.Describe());
        }
        sink.Report(new OwnerEvent { Target = target.GetLeftPart(UriPartial.Authority), Event = OwnerEvents.Accepted, Operation = OperationName, Status = answer.Value!.Status });
        try
        {
            var after = await daemon.GetAsync("/api/v1/status", CvmJsonContext.Default.StatusResponse, cancellationToken);
            return after.Value?.Status == ApiStatus.Shutdown
                ? new(target, ClientExit.Done, ApiStatus.Shutdown)
                : new(target, ClientExit.Failed, after.Value?.Status, "the daemon accepted the shutdown but does not report it", after.Ok ? $"status {after.Value!.Status}" : after.Describe());
        }
        catch (Exception ex) when (ex is DaemonUnreachableException or KeyChangedException)
        {
            // Gone already (or, after a reboot, back with a fresh key): either way it went down.
            return new(target, ClientExit.Done, ApiStatus.Shutdown, Detail: "the daemon no longer answers on the pinned key");
        }
    }

    private async Task<TargetResult> StatusAsync(Uri target, PinnedDaemon daemon, FollowState state, CancellationToken cancellationToken)
    {
        string? last = null;
        while (true)
        {
            var bootstrap = await daemon.GetAsync("/api/v1/bootstrap", CvmJsonContext.Default.OperationStatusResponse, cancellationToken);
            var passphrase = await daemon.GetAsync("/api/v1/passphrase", CvmJsonContext.Default.OperationStatusResponse, cancellationToken);
            // Read last: an operation that ended between these reads has already moved the daemon's status on.
            var status = await daemon.GetAsync("/api/v1/status", CvmJsonContext.Default.StatusResponse, cancellationToken);
            if (!bootstrap.Ok || !passphrase.Ok || !status.Ok)
            {
                var failed = !status.Ok ? status.Describe() : (bootstrap.Ok ? passphrase : bootstrap).Describe();
                return new(target, ClientExit.Failed, state.Status, "reading the status failed", failed);
            }
            state.Status = status.Value!.Status;
            var e = new OwnerEvent
            {
                Target = target.GetLeftPart(UriPartial.Authority),
                Event = OwnerEvents.Status,
                Status = state.Status,
                Bootstrap = bootstrap.Value,
                Passphrase = passphrase.Value,
                PinnedPubkey = daemon.PinnedPubkey,
            };
            var json = JsonSerializer.Serialize(e, CvmJsonContext.Default.OwnerEvent);
            if (json != last)
            {
                last = json;
                sink.Report(e);
            }
            var running = bootstrap.Value!.Status == ApiStatus.InProgress || passphrase.Value!.Status == ApiStatus.InProgress;
            if (!plan.Wait || !running)
            {
                return new(target, ClientExit.Done, state.Status);
            }
            await Task.Delay(plan.PollInterval, time, cancellationToken);
        }
    }

    private static string? FailedVolumes(IReadOnlyDictionary<string, VolumeResult>? volumes)
    {
        var failed = volumes?.Where(v => v.Value.Status == ApiStatus.Error).Select(v => $"{v.Key}: {v.Value.Error}").ToList();
        return failed is { Count: > 0 } ? string.Join("; ", failed) : null;
    }
}
