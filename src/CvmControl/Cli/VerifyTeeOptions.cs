using System.CommandLine;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.EventLog;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Validation;

namespace CvmControl.Cli;

/// <summary>
/// The flags of <c>verify</c> (and of the owner commands, which attest the same way) that ask what booted and how current the platform is: the TDX event
/// log and measurement expectations, Intel's collateral, and the SEV-SNP TCB minimum.
/// </summary>
internal sealed class VerifyTeeOptions
{
    /// <summary>Intel's collateral files are a few KiB.</summary>
    private const int MaxCollateralBytes = 1 << 20;

    private readonly Option<string> EventLog = new("--event-log") { Description = "TDX: an event log to replay against the quote's RTMRs: the CCEL (/sys/firmware/acpi/tables/data/CCEL) or dstack's JSON (an event_log array, or dstack's info with tcb_info). Online, the daemon's CCEL serves when this is not given", HelpName = "file" };
    private readonly Option<string[]> ExpectEvent = new("--expect-event") { Description = "TDX: a dstack runtime event the replayed log must hold with this payload, e.g. app-id=HEX or compose-hash=HEX; every event of that name must carry it (repeatable)", HelpName = "name=hex", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> ExpectedRtmr = new("--expected-rtmr") { Description = "TDX: the 48 bytes RTMR N (0 to 3) must hold, as N=HEX (repeatable)", HelpName = "n=hex", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
    private readonly Option<string> ExpectedMrtd = new("--expected-mrtd") { Description = "TDX: the 48-byte MRTD the image builder published, as hex", HelpName = "hex" };
    private readonly Option<string> TcbInfo = new("--tcb-info") { Description = "TDX: Intel PCS TCB info (TDX, version 3) for the platform's FMSPC, to judge its TCB status offline; needs --qe-identity", HelpName = "file" };
    private readonly Option<string> QeIdentity = new("--qe-identity") { Description = "TDX: Intel PCS identity of the TD quoting enclave (TD_QE, version 2); needs --tcb-info", HelpName = "file" };
    private readonly Option<string> MinTcbStatus = new("--min-tcb-status") { Description = "TDX: the worst Intel TCB status accepted, in the order UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded; Revoked never passes [default: SWHardeningNeeded]", HelpName = "status" };
    private readonly Option<bool> AllowStaleCollateral = new("--allow-stale-collateral") { Description = "TDX: accept TCB info or QE identity whose nextUpdate is before the verification time (--at)" };
    private readonly Option<string> MinTcb = new("--min-tcb") { Description = "SEV-SNP: the lowest security patch levels REPORTED_TCB may show, as bl:tee:snp:ucode, with :fmc appended on Turin", HelpName = "levels" };

    public IEnumerable<Option> All => [EventLog, ExpectEvent, ExpectedRtmr, ExpectedMrtd, TcbInfo, QeIdentity, MinTcbStatus, AllowStaleCollateral, MinTcb];

    /// <summary>The expectations and TCB policy the flags ask for, or a one-line usage error.</summary>
    public (MeasurementExpectations? Measurements, TcbPolicy? Tcb, string? Error) Read(ParseResult parse, bool online)
    {
        var (measurements, measurementError) = ReadMeasurements(parse, online);
        if (measurements is null)
        {
            return (null, null, measurementError);
        }
        var (tcb, tcbError) = ReadTcb(parse);
        return tcb is null ? (null, null, tcbError) : (measurements, tcb, null);
    }

    private (MeasurementExpectations?, string?) ReadMeasurements(ParseResult parse, bool online)
    {
        byte[]? log = null;
        if (parse.GetValue(EventLog) is { } logPath && (log = AttestationOptions.ReadFile(logPath, "--event-log", out var logError, CcelParser.MaxLogBytes)) is null)
        {
            return (null, logError);
        }
        var events = new List<ExpectedEvent>();
        foreach (var text in parse.GetValue(ExpectEvent) ?? [])
        {
            var (name, hex) = SplitPair(text);
            if (name.Length == 0 || hex is null)
            {
                return (null, $"--expect-event \"{Printable.Of(text)}\" is not NAME=HEX");
            }
            if (Hex(hex) is not { } payload)
            {
                return (null, $"--expect-event {Printable.Of(name)}: the payload is not hex");
            }
            events.Add(new ExpectedEvent(name, payload));
        }
        if (events.Count > 0 && log is null && !online)
        {
            return (null, "--expect-event needs --event-log FILE to find the events in");
        }
        var rtmrs = new Dictionary<int, byte[]>();
        foreach (var text in parse.GetValue(ExpectedRtmr) ?? [])
        {
            var (index, hex) = SplitPair(text);
            if (index is not ("0" or "1" or "2" or "3") || hex is null)
            {
                return (null, $"--expected-rtmr \"{Printable.Of(text)}\" is not N=HEX with N from 0 to 3");
            }
            if (Hex(hex) is not { Length: RtmrReplay.RegisterSize } value)
            {
                return (null, $"--expected-rtmr {index}: the value must be {RtmrReplay.RegisterSize} bytes ({RtmrReplay.RegisterSize * 2} hex digits)");
            }
            if (!rtmrs.TryAdd(index[0] - '0', value))
            {
                return (null, $"--expected-rtmr {index} is given twice");
            }
        }
        byte[]? mrtd = null;
        if (parse.GetValue(ExpectedMrtd) is { } mrtdText && (mrtd = Hex(mrtdText)) is not { Length: 48 })
        {
            return (null, "--expected-mrtd must be 48 bytes (96 hex digits)");
        }
        return (new MeasurementExpectations { EventLog = log, Events = events, Rtmrs = rtmrs, Mrtd = mrtd }, null);
    }

    private (TcbPolicy?, string?) ReadTcb(ParseResult parse)
    {
        var tcbInfoPath = parse.GetValue(TcbInfo);
        var qeIdentityPath = parse.GetValue(QeIdentity);
        if ((tcbInfoPath is null) != (qeIdentityPath is null))
        {
            return (null, "--tcb-info and --qe-identity go together: Intel's TCB status needs both");
        }
        var minimumText = parse.GetValue(MinTcbStatus);
        if (tcbInfoPath is null && (minimumText is not null || parse.GetValue(AllowStaleCollateral)))
        {
            return (null, "--min-tcb-status and --allow-stale-collateral need --tcb-info and --qe-identity");
        }
        var minimum = TcbStatus.SWHardeningNeeded;
        if (minimumText is not null)
        {
            if (TcbStatuses.Parse(minimumText) is not { } parsed || parsed == TcbStatus.Revoked)
            {
                return (null, $"--min-tcb-status \"{Printable.Of(minimumText)}\" is not one of UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded");
            }
            minimum = parsed;
        }
        byte[]? tcbInfo = null, qeIdentity = null;
        if (tcbInfoPath is not null && (tcbInfo = AttestationOptions.ReadFile(tcbInfoPath, "--tcb-info", out var tcbInfoError, MaxCollateralBytes)) is null)
        {
            return (null, tcbInfoError);
        }
        if (qeIdentityPath is not null && (qeIdentity = AttestationOptions.ReadFile(qeIdentityPath, "--qe-identity", out var qeError, MaxCollateralBytes)) is null)
        {
            return (null, qeError);
        }
        TcbVersion? snpMinimum = null;
        if (parse.GetValue(MinTcb) is { } minTcbText && (snpMinimum = TcbVersion.Parse(minTcbText)) is null)
        {
            return (null, $"--min-tcb \"{Printable.Of(minTcbText)}\" is not bl:tee:snp:ucode or bl:tee:snp:ucode:fmc, each from 0 to 255");
        }
        return (new TcbPolicy
        {
            IntelTcbInfo = tcbInfo,
            IntelQeIdentity = qeIdentity,
            MinimumStatus = minimum,
            AllowStaleCollateral = parse.GetValue(AllowStaleCollateral),
            SnpMinimum = snpMinimum,
        }, null);
    }

    /// <summary>Splits at the first '='; the value is null when there is none.</summary>
    private static (string Key, string? Value) SplitPair(string text) =>
        text.IndexOf('=', StringComparison.Ordinal) is var at and >= 0 ? (text[..at], text[(at + 1)..]) : (text, null);

    private static byte[]? Hex(string text)
    {
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
