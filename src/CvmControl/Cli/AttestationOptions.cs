using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Client;
using CvmControl.Attestation.Verification;
using CvmControl.OS;
using CvmControl.Validation;

namespace CvmControl.Cli;

/// <summary>
/// What a verifier expects of the evidence, shared by <c>verify</c> and the owner commands
/// (<c>bootstrap</c>, <c>rotate</c>, <c>shutdown</c>), which attest a daemon exactly as
/// <c>verify --url</c> does: vendor certificates, the launch measurement, the time, debug policy,
/// the TDX event log and TCB flags, and the client certificate for the connection.
/// </summary>
internal sealed class AttestationOptions
{
    /// <summary>Evidence and certificates are small; anything bigger is not what the user meant.</summary>
    public const int MaxInputBytes = 1 << 20;

    private readonly Option<string> _certificates = new("--certificates") { Description = "SEV-SNP certificate table (the configfs-tsm auxblob) that came with the report", HelpName = "file" };
    private readonly Option<string[]> _cert = new("--cert") { Description = "An extra DER or PEM certificate, such as a VCEK or VLEK from AMD's KDS (repeatable)", HelpName = "file", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
    private readonly Option<string> _expectedMeasurement = new("--expected-measurement") { Description = "The launch measurement (SNP MEASUREMENT or TDX MRTD) published by the image builder, as hex", HelpName = "hex" };
    private readonly Option<string> _vmpl = new("--vmpl") { Description = "SEV-SNP: the VMPL (0-3) the report must have been requested from; 0 is the most privileged, a guest under an SVSM runs at 2", HelpName = "n" };
    private readonly Option<string> _at = new("--at") { Description = "Check certificate validity, and the freshness of Intel collateral, at this time instead of now (ISO 8601), for old evidence", HelpName = "time" };
    private readonly Option<bool> _allowDebug = new("--allow-debug") { Description = "Accept a guest whose policy allows the host to debug it" };
    private readonly VerifyTeeOptions _tee = new();

    public ClientCertificateOptions Client { get; } = new();

    public IEnumerable<Option> All => [_certificates, _cert, _expectedMeasurement, _vmpl, _at, _allowDebug, .. Client.All, .. _tee.All];

    /// <summary>The inputs the flags ask for, or a one-line usage error.</summary>
    /// <param name="online">The evidence comes from a daemon (its event log may stand in for --event-log).</param>
    public (VerifyInputs? Inputs, string? Error) Read(ParseResult parse, bool online, byte[]? expectedReportData = null)
    {
        var (client, clientError) = Client.Read(parse);
        if (clientError is not null)
        {
            return (null, clientError);
        }
        byte[]? table = null;
        if (parse.GetValue(_certificates) is { } tablePath && (table = ReadFile(tablePath, "--certificates", out var tableError)) is null)
        {
            return (null, tableError);
        }
        var extra = new List<X509Certificate2>();
        foreach (var path in parse.GetValue(_cert) ?? [])
        {
            var bytes = ReadFile(path, "--cert", out var certError);
            if (bytes is null)
            {
                return (null, certError);
            }
            try
            {
                extra.AddRange(CertificateChecks.Load(bytes));
            }
            catch (CryptographicException ex)
            {
                return (null, $"--cert {path}: not a DER or PEM certificate ({ex.Message})");
            }
        }
        var (measurement, measurementError) = Hex(parse.GetValue(_expectedMeasurement), "--expected-measurement", 48);
        if (measurementError is not null)
        {
            return (null, measurementError);
        }
        uint? vmpl = null;
        if (parse.GetValue(_vmpl) is { } vmplText)
        {
            if (!uint.TryParse(vmplText, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level > 3)
            {
                return (null, $"--vmpl must be 0, 1, 2 or 3, not \"{Printable.Of(vmplText)}\"");
            }
            vmpl = level;
        }
        DateTimeOffset? at = null;
        if (parse.GetValue(_at) is { } atText)
        {
            if (!DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return (null, $"--at \"{atText}\" is not an ISO 8601 time (e.g. 2025-06-01 or 2025-06-01T12:00:00Z)");
            }
            at = parsed;
        }
        var (measurements, tcb, teeError) = _tee.Read(parse, online);
        if (teeError is not null)
        {
            return (null, teeError);
        }
        return (new VerifyInputs
        {
            CertificateTable = table,
            ExtraCertificates = extra,
            ExpectedReportData = expectedReportData,
            ExpectedMeasurement = measurement,
            ExpectedVmpl = vmpl,
            At = at,
            AllowDebug = parse.GetValue(_allowDebug),
            Measurements = measurements!,
            Tcb = tcb!,
            ClientCertificate = client,
        }, null);
    }

    /// <summary>The options given on the command line, by name: an owner command refuses them with --insecure-skip-attestation.</summary>
    public IEnumerable<string> GivenNames(ParseResult parse) =>
        All.Where(o => o != Client.Certificate && o != Client.Key && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name);

    /// <summary>A whole input file, at most <paramref name="maxBytes"/>; null with a one-line reason otherwise.</summary>
    internal static byte[]? ReadFile(string path, string flag, out string? error, int maxBytes = MaxInputBytes)
    {
        try
        {
            error = null;
            return BoundedFile.Read(path, maxBytes, "the file");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"{flag} {path}: {ex.Message}";
            return null;
        }
    }

    internal static (byte[]? Value, string? Error) Hex(string? text, string flag, int length)
    {
        if (text is null)
        {
            return (null, null);
        }
        try
        {
            var bytes = Convert.FromHexString(text);
            return bytes.Length == length ? (bytes, null) : (null, $"{flag} must be {length} bytes ({length * 2} hex digits), not {bytes.Length}");
        }
        catch (FormatException)
        {
            return (null, $"{flag} is not hex");
        }
    }
}
