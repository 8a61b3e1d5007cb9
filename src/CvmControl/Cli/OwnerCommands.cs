using System.CommandLine;
using System.Globalization;
using CvmControl.Attestation.Client;
using CvmControl.Client;
using CvmControl.OS;
using CvmControl.Validation;

namespace CvmControl.Cli;

/// <summary>
/// The owner's side of the binary: <c>bootstrap</c>, <c>rotate</c>, <c>shutdown</c> and <c>status</c>
/// against one daemon or a fleet. Parsing only; the work is in <c>Client/</c>.
/// Exit 0 done, 1 the operation failed, 2 usage, 3 attestation refused, 4 unreachable or timed out.
/// </summary>
internal static class OwnerCommands
{
    public const int DefaultParallel = 8;
    public const int MaxParallel = 256;

    /// <summary>At most this many targets in one run, and this many bytes of --targets.</summary>
    public const int MaxTargets = 4096;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    private const string Insecure = "--insecure-skip-attestation";

    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr, Func<VerifyRunner> verifier, Func<ClientConsole> consoleFactory) =>
    [
        Build(OwnerOperation.Bootstrap, "bootstrap", "Attest a CVM, then bootstrap it with a request read from a file or stdin (env and secret files, LUKS2 volumes) over a connection pinned to the attested key, and follow the volumes to the end.", stdout, stderr, verifier, consoleFactory),
        Build(OwnerOperation.Rotate, "rotate", "Attest a CVM, then change volume passphrases with a request read from a file or stdin over a connection pinned to the attested key, and follow the rotation to the end. \"revoke_old\": true removes the keyslots the old passphrase opens.", stdout, stderr, verifier, consoleFactory),
        Build(OwnerOperation.Shutdown, "shutdown", "Attest a CVM, then power it off (or --reboot) over a connection pinned to the attested key.", stdout, stderr, verifier, consoleFactory),
        Build(OwnerOperation.Status, "status", "Show a daemon's status and its last bootstrap and rotation, with each volume's step while they run. Sends nothing secret, so it does not attest.", stdout, stderr, verifier, consoleFactory),
    ];

    private static Command Build(OwnerOperation operation, string name, string description, TextWriter stdout, TextWriter stderr, Func<VerifyRunner> verifier, Func<ClientConsole> consoleFactory)
    {
        var command = new Command(name, description + " Exit 0 done, 1 failed, 2 usage, 3 attestation refused (or the key changed), 4 unreachable or timed out; over several targets 0 only if all succeeded, else the first of 3, 1, 4 that any target gave.");
        var urls = new Option<string[]>("--url") { Description = "A daemon, https://HOST:PORT (repeatable)", HelpName = "url", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var targets = new Option<string>("--targets") { Description = "A file with one https://HOST:PORT per line (blank lines and lines starting with # are skipped)", HelpName = "file" };
        var parallel = new Option<int>("--parallel") { Description = $"How many targets to work on at once [default: {DefaultParallel}]", HelpName = "n", DefaultValueFactory = _ => DefaultParallel };
        var timeout = new Option<string>("--timeout") { Description = "How long each target may take, attestation and following included (30s, 10m, 1h) [default: 30m]", HelpName = "duration" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per state change even on a terminal" };
        foreach (var option in new Option[] { urls, targets, parallel, timeout, json })
        {
            command.Options.Add(option);
        }

        var request = new Option<string>("--request") { Description = "The request body: a JSON file, or - for stdin. A passphrase may be given as \"…_file\" (a file of this client, read without its final line break) or \"…_env\" (an environment variable of this client) instead", HelpName = "file|-" };
        var userId = new Option<string>("--user-id") { Description = "The bootstrap user_id, needed once the daemon is ready", HelpName = "id" };
        var reboot = new Option<bool>("--reboot") { Description = "Reboot instead of powering off" };
        var wait = new Option<bool>("--wait") { Description = "Poll until no bootstrap or rotation is in progress" };
        var skip = new Option<bool>(Insecure) { Description = "Development VMs without a TEE only: skip attestation and pin the first key seen. Anything in the middle gets the secrets. Prints a warning on every run" };
        var expectations = new AttestationOptions();
        var clientOnly = new ClientCertificateOptions();
        if (operation is OwnerOperation.Bootstrap or OwnerOperation.Rotate)
        {
            request.Required = true;
            command.Options.Add(request);
        }
        if (operation == OwnerOperation.Shutdown)
        {
            command.Options.Add(userId);
            command.Options.Add(reboot);
        }
        if (operation == OwnerOperation.Status)
        {
            command.Options.Add(wait);
            foreach (var option in clientOnly.All)
            {
                command.Options.Add(option);
            }
        }
        else
        {
            command.Options.Add(skip);
            foreach (var option in expectations.All)
            {
                command.Options.Add(option);
            }
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = consoleFactory();
            var usage = $"cvm-control {name}";
            void Warn(string message) => stderr.WriteLine($"{usage}: warning: {message}");

            var (list, targetsError) = ReadTargets(parse.GetValue(urls) ?? [], parse.GetValue(targets));
            if (list is null)
            {
                await stderr.WriteLineAsync($"{usage}: {targetsError}");
                return ClientExit.Usage;
            }
            var n = parse.GetValue(parallel);
            if (n is < 1 or > MaxParallel)
            {
                await stderr.WriteLineAsync($"{usage}: --parallel must be from 1 to {MaxParallel}, not {n}");
                return ClientExit.Usage;
            }
            var limit = DefaultTimeout;
            if (parse.GetValue(timeout) is { } timeoutText && (SettingsOptions.ParseDuration(timeoutText) is not { } parsed || parsed <= TimeSpan.Zero || (limit = parsed) > TimeSpan.FromDays(1)))
            {
                await stderr.WriteLineAsync($"{usage}: --timeout \"{Printable.Of(timeoutText)}\" is not a duration from 1ms to 24h (30s, 10m, 1h)");
                return ClientExit.Usage;
            }

            var skipAttestation = operation != OwnerOperation.Status && parse.GetValue(skip);
            VerifyInputs? inputs;
            string? inputsError;
            if (operation == OwnerOperation.Status)
            {
                var (client, clientError) = clientOnly.Read(parse);
                (inputs, inputsError) = (clientError is null ? new VerifyInputs { ClientCertificate = client } : null, clientError);
            }
            else
            {
                (inputs, inputsError) = expectations.Read(parse, online: true);
                if (inputs is not null && skipAttestation && expectations.GivenNames(parse).FirstOrDefault() is { } contradiction)
                {
                    (inputs, inputsError) = (null, $"{contradiction} is an attestation expectation; it cannot be checked with {Insecure}");
                }
            }
            if (inputs is null)
            {
                await stderr.WriteLineAsync($"{usage}: {inputsError}");
                return ClientExit.Usage;
            }

            OwnerRequest? body = null;
            if (parse.GetValue(request) is { } requestPath)
            {
                (body, var requestError) = RequestLoader.Load(operation, requestPath, console, Warn);
                if (body is null)
                {
                    await stderr.WriteLineAsync($"{usage}: {requestError}");
                    return ClientExit.Usage;
                }
            }
            if (skipAttestation)
            {
                Warn($"{Insecure}: the daemon is NOT attested. Whoever answers at {string.Join(", ", list.Select(u => u.GetLeftPart(UriPartial.Authority)))} first gets this request. Use it only for development VMs without a TEE.");
            }

            var plan = new OwnerPlan
            {
                Operation = operation,
                Request = body,
                UserId = parse.GetValue(userId),
                Reboot = parse.GetValue(reboot),
                Wait = parse.GetValue(wait),
                SkipAttestation = skipAttestation,
                Inputs = inputs,
                Timeout = limit,
            };
            IProgressSink sink = console.Terminal && !parse.GetValue(json) ? new LiveProgress(stdout, console.Width) : new JsonLinesProgress(stdout);
            var runner = new TargetRunner(plan, verifier, console.Time, sink);
            return await FleetRunner.RunAsync(list, n, runner.RunAsync, sink, cancellationToken);
        });
        return command;
    }

    /// <summary>The targets of --url and --targets, in order, each once; or a one-line usage error.</summary>
    internal static (IReadOnlyList<Uri>? Targets, string? Error) ReadTargets(IReadOnlyList<string> urls, string? targetsFile)
    {
        var texts = urls.Select(u => (Text: u, Where: "--url")).ToList();
        if (targetsFile is not null)
        {
            byte[] bytes;
            try
            {
                bytes = BoundedFile.Read(targetsFile, MaxTargets * 256, "the targets file");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return (null, $"--targets {targetsFile}: {ex.Message}");
            }
            var lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length > 0 && !line.StartsWith('#'))
                {
                    texts.Add((line, $"--targets {targetsFile} line {(i + 1).ToString(CultureInfo.InvariantCulture)}"));
                }
            }
        }
        if (texts.Count == 0)
        {
            return (null, "give the daemon with --url https://HOST:PORT (repeatable) or --targets FILE");
        }
        if (texts.Count > MaxTargets)
        {
            return (null, $"{texts.Count} targets; at most {MaxTargets} in one run");
        }
        var result = new List<Uri>();
        foreach (var (text, where) in texts)
        {
            if (VerifyCommand.ParseUrl(text) is not { } url)
            {
                return (null, $"{where}: \"{Printable.Of(text)}\" is not https://HOST:PORT");
            }
            if (result.Any(u => Uri.Compare(u, url, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0))
            {
                return (null, $"{where}: {url.GetLeftPart(UriPartial.Authority)} is given twice");
            }
            result.Add(url);
        }
        return (result, null);
    }
}
