using System.Globalization;
using CvmControl.Api.V1;
using CvmControl.Attestation.Verification.EventLog;
using CvmControl.Attestation.Verification.Tdx;

namespace CvmControl.Attestation.Client;

/// <summary>The wire form of what verification found beyond the chain: the event log and Intel's TCB verdict.</summary>
internal static class VerifyReports
{
    public static VerifyEventLog? EventLog(ParsedEventLog? log) => log is null ? null : new VerifyEventLog
    {
        Format = log.Format == EventLogFormat.Ccel ? "ccel" : "dstack",
        Events = [.. log.Events.Select(e => new VerifyEvent
        {
            Index = e.Index,
            Rtmr = e.Rtmr,
            Type = e.Type,
            TypeName = EventTypes.NameOf(e.Type),
            Digest = Convert.ToHexStringLower(e.Digest),
            Name = e.Name,
            Payload = e.Name is null ? null : Convert.ToHexStringLower(e.Data),
        })],
    };

    public static VerifyTcb? Tcb(IntelTcbAssessment? tcb) => tcb is null ? null : new VerifyTcb
    {
        Status = tcb.Status.ToString(),
        PlatformStatus = tcb.PlatformStatus.ToString(),
        TdxModuleStatus = tcb.ModuleStatus?.ToString(),
        QeStatus = tcb.QeStatus.ToString(),
        AdvisoryIds = tcb.AdvisoryIds,
        Fmspc = Convert.ToHexStringLower(tcb.Fmspc),
        TcbDate = tcb.TcbDate.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        TcbEvaluationDataNumber = tcb.EvaluationDataNumber,
    };
}
