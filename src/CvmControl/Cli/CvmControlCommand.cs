using System.CommandLine;
using CvmControl.Attestation.Client;
using CvmControl.Attestation.Verification;
using CvmControl.Client;

namespace CvmControl.Cli;

/// <summary>The <c>cvm-control</c> command line: parse, resolve settings, run the daemon; or a client subcommand.</summary>
internal static class CvmControlCommand
{
    public const int UsageError = 2;

    /// <summary>How long online verification waits for a daemon.</summary>
    public static readonly TimeSpan VerifyTimeout = TimeSpan.FromSeconds(30);

    public static RootCommand Create(Func<string, string?> getEnv, TextWriter stdout, TextWriter stderr, Func<DaemonSettings, CancellationToken, Task<int>> run, Func<VerifyRunner>? verifyRunner = null, Func<ClientConsole>? console = null)
    {
        var root = new RootCommand("cvm-control bootstraps a Confidential VM over HTTPS: env and secret files, LUKS2 data volumes, passphrase rotation, shutdown.");
        foreach (var setting in SettingsOptions.All)
        {
            root.Options.Add(setting.Option);
        }
        var verifier = verifyRunner ?? (() => new VerifyRunner(TrustAnchors.Vendor, TimeProvider.System, new AttestationFetcher(VerifyTimeout)));
        root.Subcommands.Add(VerifyCommand.Create(stdout, stderr, verifier));
        foreach (var owner in OwnerCommands.Create(stdout, stderr, verifier, console ?? (() => new ClientConsole(Stream.Null, false, 0, getEnv, TimeProvider.System))))
        {
            root.Subcommands.Add(owner);
        }
        root.SetAction(async (parse, cancellationToken) =>
        {
            var (settings, error) = SettingsOptions.Resolve(parse, getEnv);
            if (error is not null)
            {
                await stderr.WriteLineAsync($"cvm-control: {error}");
                return UsageError;
            }
            return await run(settings!, cancellationToken);
        });
        return root;
    }

    /// <param name="console">Stdin, terminal and clock of the owner commands; none: an empty stdin, never a terminal.</param>
    public static async Task<int> InvokeAsync(string[] args, Func<string, string?> getEnv, TextWriter stdout, TextWriter stderr, Func<DaemonSettings, CancellationToken, Task<int>> run, Func<VerifyRunner>? verifyRunner = null, Func<ClientConsole>? console = null)
    {
        var root = Create(getEnv, stdout, stderr, run, verifyRunner, console);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, no help dump: this usually runs under systemd, where the journal wants the reason.
            await stderr.WriteLineAsync($"cvm-control: {parse.Errors[0].Message}");
            return UsageError;
        }
        // The host handles SIGTERM/SIGINT itself and lets a running operation finish its step;
        // System.CommandLine's own handler would kill the process after 2 s.
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            ProcessTerminationTimeout = null,
            Output = stdout,
            Error = stderr,
        });
    }
}
