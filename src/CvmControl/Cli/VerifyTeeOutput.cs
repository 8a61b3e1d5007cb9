using CvmControl.Api.V1;

namespace CvmControl.Cli;

/// <summary>The text lines of <c>verify</c> about what booted and how current the platform is.</summary>
internal static class VerifyTeeOutput
{
    public static async Task Print(VerifyReport report, TextWriter stdout)
    {
        if (report.Rtmrs is { } rtmrs)
        {
            for (var i = 0; i < rtmrs.Count; i++)
            {
                await stdout.WriteLineAsync($"rtmr{i}: {rtmrs[i]}");
            }
        }
        if (report.EventLog is { } log)
        {
            var runtime = log.Events.Where(e => e.Name is not null).ToList();
            await stdout.WriteLineAsync($"event log: {(log.Format == "ccel" ? "CCEL" : "dstack JSON")}, {log.Events.Count} events, {runtime.Count} of them dstack runtime events (--json lists them all)");
            foreach (var e in runtime)
            {
                await stdout.WriteLineAsync($"event {e.Index}: {Validation.Printable.Of(e.Name!)} = {e.Payload} (RTMR{e.Rtmr})");
            }
        }
        if (report.Tcb is { } tcb)
        {
            var module = tcb.TdxModuleStatus is null ? "" : $", TDX module {tcb.TdxModuleStatus}";
            await stdout.WriteLineAsync($"tcb: {tcb.Status} (platform {tcb.PlatformStatus}{module}, QE {tcb.QeStatus}; FMSPC {tcb.Fmspc}, TCB date {tcb.TcbDate}, evaluation data number {tcb.TcbEvaluationDataNumber})");
            await stdout.WriteLineAsync($"advisories: {(tcb.AdvisoryIds.Count == 0 ? "none" : string.Join(", ", tcb.AdvisoryIds))}");
        }
        if (report.ReportedTcb is { } reported)
        {
            await stdout.WriteLineAsync($"reported_tcb: {reported} (bl:tee:snp:ucode[:fmc])");
        }
    }
}
