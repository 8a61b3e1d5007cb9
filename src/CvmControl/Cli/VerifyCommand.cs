using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Attestation;
using CvmControl.Attestation.Client;
using CvmControl.Attestation.Verification;
using CvmControl.Identity;
using CvmControl.Json;
using CvmControl.OS;
using CvmControl.Validation;

namespace CvmControl.Cli;

/// <summary>
/// <c>cvm-control verify</c>: checks a daemon's attestation online, or saved evidence offline.
/// Exit 0 verified, 1 not verified (every reason printed), 2 usage error.
/// </summary>
internal static class VerifyCommand
{
    public const int Verified = 0;
    public const int NotVerified = 1;

    /// <summary>Evidence and certificates are small; anything bigger is not what the user meant.</summary>
    private const int MaxInputBytes = 1 << 20;

    private static readonly Option<string> Url = new("--url") { Description = "Verify a running daemon: https://HOST:PORT. Sends a fresh nonce and checks the evidence is bound to the TLS key this connection saw.", HelpName = "url" };
    private static readonly Option<string> Evidence = new("--evidence") { Description = "Verify a saved SEV-SNP report or TDX quote offline", HelpName = "file" };
    private static readonly Option<string> Certificates = new("--certificates") { Description = "SEV-SNP certificate table (the configfs-tsm auxblob) that came with the report", HelpName = "file" };
    private static readonly Option<string[]> Cert = new("--cert") { Description = "An extra DER or PEM certificate, such as a VCEK or VLEK from AMD's KDS (repeatable)", HelpName = "file", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string> ExpectedReportData = new("--expected-report-data") { Description = "Offline: the 64 bytes REPORT_DATA must hold, as hex", HelpName = "hex" };
    private static readonly Option<string> ExpectedMeasurement = new("--expected-measurement") { Description = "The launch measurement (SNP MEASUREMENT or TDX MRTD) published by the image builder, as hex", HelpName = "hex" };
    private static readonly Option<string> Vmpl = new("--vmpl") { Description = "SEV-SNP: the VMPL (0-3) the report must have been requested from; 0 is the most privileged, a guest under an SVSM runs at 2", HelpName = "n" };
    private static readonly Option<string> At = new("--at") { Description = "Check certificate validity, and the freshness of Intel collateral, at this time instead of now (ISO 8601), for old evidence", HelpName = "time" };
    private static readonly Option<bool> AllowDebug = new("--allow-debug") { Description = "Accept a guest whose policy allows the host to debug it" };
    private static readonly Option<bool> JsonOutput = new("--json") { Description = "Print the result as one JSON object" };
    private static readonly Option<bool> PrintPin = new("--print-pin") { Description = "Online: on success print only the verified key as sha256//BASE64, for curl --pinnedpubkey" };
    private static readonly Option<string> ClientCert = new("--client-cert") { Description = "Online: a client certificate (PEM, leaf first; may also hold the key) for a daemon that requires client authentication", HelpName = "file" };
    private static readonly Option<string> ClientKey = new("--client-key") { Description = "Online: the private key of --client-cert (PEM: PKCS#8, SEC1 EC or RSA)", HelpName = "file" };

    public static Command Create(TextWriter stdout, TextWriter stderr, Func<VerifyRunner> runnerFactory)
    {
        var command = new Command("verify", "Verify a CVM's attestation: online against a running daemon (--url) or offline (--evidence), against pinned AMD and Intel roots. On TDX it can also replay the event log and judge the TCB from Intel's collateral.");
        foreach (var option in new Option[] { Url, Evidence, Certificates, Cert, ExpectedReportData, ExpectedMeasurement, Vmpl, At, AllowDebug, JsonOutput, PrintPin, ClientCert, ClientKey })
        {
            command.Options.Add(option);
        }
        foreach (var option in VerifyTeeOptions.All)
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (request, error) = ReadRequest(parse);
            if (request is null)
            {
                await stderr.WriteLineAsync($"cvm-control verify: {error}");
                return CvmControlCommand.UsageError;
            }
            var runner = runnerFactory();
            var report = request.Server is { } server
                ? await runner.VerifyOnlineAsync(server, request.Inputs, cancellationToken)
                : runner.VerifyOffline(request.Evidence, request.Inputs);
            await Print(report, parse.GetValue(JsonOutput), parse.GetValue(PrintPin), stdout);
            return report.Verified ? Verified : NotVerified;
        });
        return command;
    }

    /// <summary>A parsed invocation: a daemon to ask (online), or the evidence read from --evidence (offline).</summary>
    private sealed record Request(Uri? Server, byte[] Evidence, VerifyInputs Inputs);

    private static (Request? Request, string? Error) ReadRequest(ParseResult parse)
    {
        var url = parse.GetValue(Url);
        var evidencePath = parse.GetValue(Evidence);
        if ((url is null) == (evidencePath is null))
        {
            return (null, "give exactly one of --url (online) or --evidence FILE (offline)");
        }
        Uri? server = null;
        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out server) || server.Scheme != Uri.UriSchemeHttps || server.PathAndQuery != "/")
            {
                return (null, $"--url must be https://HOST:PORT, not \"{url}\"");
            }
            if (parse.GetValue(ExpectedReportData) is not null)
            {
                return (null, "--expected-report-data is for offline checks; online, the report data is computed from this client's nonce and the TLS key it saw");
            }
        }
        else if (parse.GetValue(PrintPin))
        {
            return (null, "--print-pin needs --url");
        }
        else if (parse.GetValue(ClientCert) is not null || parse.GetValue(ClientKey) is not null)
        {
            return (null, "--client-cert and --client-key are for online checks (--url)");
        }
        var (client, clientError) = ReadClientCertificate(parse.GetValue(ClientCert), parse.GetValue(ClientKey));
        if (clientError is not null)
        {
            return (null, clientError);
        }
        string? fileError = null;
        var evidence = evidencePath is null ? [] : ReadFile(evidencePath, "--evidence", out fileError);
        if (evidence is null)
        {
            return (null, fileError);
        }

        byte[]? table = null;
        if (parse.GetValue(Certificates) is { } tablePath && (table = ReadFile(tablePath, "--certificates", out var tableError)) is null)
        {
            return (null, tableError);
        }
        var extra = new List<X509Certificate2>();
        foreach (var path in parse.GetValue(Cert) ?? [])
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
        var (reportData, reportDataError) = Hex(parse.GetValue(ExpectedReportData), "--expected-report-data", AttestationBinding.ReportDataLength);
        var (measurement, measurementError) = Hex(parse.GetValue(ExpectedMeasurement), "--expected-measurement", 48);
        if ((reportDataError ?? measurementError) is { } hexError)
        {
            return (null, hexError);
        }
        uint? vmpl = null;
        if (parse.GetValue(Vmpl) is { } vmplText)
        {
            if (!uint.TryParse(vmplText, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level > 3)
            {
                return (null, $"--vmpl must be 0, 1, 2 or 3, not \"{Printable.Of(vmplText)}\"");
            }
            vmpl = level;
        }
        DateTimeOffset? at = null;
        if (parse.GetValue(At) is { } atText)
        {
            if (!DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return (null, $"--at \"{atText}\" is not an ISO 8601 time (e.g. 2025-06-01 or 2025-06-01T12:00:00Z)");
            }
            at = parsed;
        }
        var (measurements, tcb, teeError) = VerifyTeeOptions.Read(parse, online: server is not null);
        if (teeError is not null)
        {
            return (null, teeError);
        }
        return (new Request(server, evidence, new VerifyInputs
        {
            CertificateTable = table,
            ExtraCertificates = extra,
            ExpectedReportData = reportData,
            ExpectedMeasurement = measurement,
            ExpectedVmpl = vmpl,
            At = at,
            AllowDebug = parse.GetValue(AllowDebug),
            Measurements = measurements!,
            Tcb = tcb!,
            ClientCertificate = client,
        }), null);
    }

    private static (CertificateWithKey? Client, string? Error) ReadClientCertificate(string? certificatePath, string? keyPath)
    {
        if (certificatePath is null)
        {
            return (null, keyPath is null ? null : "--client-key needs --client-cert");
        }
        try
        {
            var certificate = CredentialFiles.Instance.Read(certificatePath);
            return keyPath is null
                ? (PemCredentials.Load(certificate, certificatePath), null)
                : (PemCredentials.Load(certificate, certificatePath, CredentialFiles.Instance.Read(keyPath), keyPath), null);
        }
        catch (CredentialException ex)
        {
            return (null, $"--client-cert: {ex.Message}");
        }
    }

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

    private static (byte[]? Value, string? Error) Hex(string? text, string flag, int length)
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

    private static async Task Print(VerifyReport report, bool json, bool pinOnly, TextWriter stdout)
    {
        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report, CvmJsonContext.Default.VerifyReport));
            return;
        }
        if (pinOnly && report.Verified)
        {
            await stdout.WriteLineAsync(report.PinnedPubkey);
            return;
        }
        var what = report.Kind is null ? "evidence" : $"{report.Kind}{(report.Product is null ? "" : " " + report.Product)}, signed by {report.SigningKey?.ToUpperInvariant() ?? "?"}";
        await stdout.WriteLineAsync(report.Verified ? $"verified: {what}" : $"NOT verified: {what}");
        if (report.Measurement is not null)
        {
            await stdout.WriteLineAsync($"measurement: {report.Measurement}");
        }
        if (report.ReportData is not null)
        {
            await stdout.WriteLineAsync($"report_data: {report.ReportData}");
        }
        if (report.Vmpl is uint vmpl)
        {
            await stdout.WriteLineAsync($"vmpl: {vmpl.ToString(CultureInfo.InvariantCulture)}");
        }
        if (report.PinnedPubkey is not null)
        {
            await stdout.WriteLineAsync($"tls key: {report.PinnedPubkey} (curl --pinnedpubkey)");
        }
        await VerifyTeeOutput.Print(report, stdout);
        foreach (var error in report.Errors)
        {
            await stdout.WriteLineAsync($"error: {error}");
        }
    }
}
