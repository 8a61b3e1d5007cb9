using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Attestation;
using CvmControl.Attestation.Client;
using CvmControl.Json;

namespace CvmControl.Cli;

/// <summary>
/// <c>cvm-control verify</c>: checks a daemon's attestation online, or saved evidence offline.
/// Exit 0 verified, 1 not verified (every reason printed), 2 usage error.
/// </summary>
internal static class VerifyCommand
{
    public const int Verified = 0;
    public const int NotVerified = 1;

    private static readonly Option<string> Url = new("--url") { Description = "Verify a running daemon: https://HOST:PORT. Sends a fresh nonce and checks the evidence is bound to the TLS key this connection saw.", HelpName = "url" };
    private static readonly Option<string> Evidence = new("--evidence") { Description = "Verify a saved SEV-SNP report or TDX quote offline", HelpName = "file" };
    private static readonly Option<string> ExpectedReportData = new("--expected-report-data") { Description = "Offline: the 64 bytes REPORT_DATA must hold, as hex", HelpName = "hex" };
    private static readonly Option<bool> JsonOutput = new("--json") { Description = "Print the result as one JSON object" };
    private static readonly Option<bool> PrintPin = new("--print-pin") { Description = "Online: on success print only the verified key as sha256//BASE64, for curl --pinnedpubkey" };

    public static Command Create(TextWriter stdout, TextWriter stderr, Func<VerifyRunner> runnerFactory)
    {
        var command = new Command("verify", "Verify a CVM's attestation: online against a running daemon (--url) or offline (--evidence), against pinned AMD and Intel roots. On TDX it can also replay the event log and judge the TCB from Intel's collateral.");
        var expectations = new AttestationOptions();
        foreach (var option in new Option[] { Url, Evidence, ExpectedReportData, JsonOutput, PrintPin }.Concat(expectations.All))
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (request, error) = ReadRequest(parse, expectations);
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

    private static (Request? Request, string? Error) ReadRequest(ParseResult parse, AttestationOptions expectations)
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
            if (ParseUrl(url) is not { } parsed)
            {
                return (null, $"--url must be https://HOST:PORT, not \"{url}\"");
            }
            server = parsed;
            if (parse.GetValue(ExpectedReportData) is not null)
            {
                return (null, "--expected-report-data is for offline checks; online, the report data is computed from this client's nonce and the TLS key it saw");
            }
        }
        else if (parse.GetValue(PrintPin))
        {
            return (null, "--print-pin needs --url");
        }
        else if (expectations.Client.Given(parse))
        {
            return (null, "--client-cert and --client-key are for online checks (--url)");
        }
        string? fileError = null;
        var evidence = evidencePath is null ? [] : AttestationOptions.ReadFile(evidencePath, "--evidence", out fileError);
        if (evidence is null)
        {
            return (null, fileError);
        }
        var (reportData, reportDataError) = AttestationOptions.Hex(parse.GetValue(ExpectedReportData), "--expected-report-data", AttestationBinding.ReportDataLength);
        if (reportDataError is not null)
        {
            return (null, reportDataError);
        }
        var (inputs, inputsError) = expectations.Read(parse, online: server is not null, reportData);
        return inputs is null ? (null, inputsError) : (new Request(server, evidence, inputs), null);
    }

    /// <summary>A daemon's address as the client commands take it: https, a host and maybe a port, nothing after.</summary>
    internal static Uri? ParseUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var server) && server.Scheme == Uri.UriSchemeHttps && server.PathAndQuery == "/" && string.IsNullOrEmpty(server.UserInfo) && string.IsNullOrEmpty(server.Fragment)
            ? server
            : null;

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
