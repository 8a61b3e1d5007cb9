using System.Globalization;
using System.Text;
using CvmControl.Api.V1;

namespace CvmControl.Client;

/// <summary>
/// Progress for a person at a terminal: a line per volume of every running target, redrawn in place
/// as the daemon reports steps, with what happened before (attestation, acceptance, results) above
/// it. Live lines are cut to the terminal's width, so each takes exactly one row and the redraw
/// (cursor up, clear to the end of the screen) stays in place.
/// </summary>
internal sealed class LiveProgress(TextWriter stdout, int width) : IProgressSink
{
    private const string Escape = "\u001b[";

    private readonly Lock _gate = new();
    private readonly List<(string Target, string Line)> _board = [];
    private int _drawn;

    public void Report(OwnerEvent e)
    {
        var target = e.Target ?? "";
        lock (_gate)
        {
            switch (e.Event)
            {
                case OwnerEvents.Attested:
                    Draw([$"{target}  attested: {Describe(e.Attestation)}, key {e.PinnedPubkey}"]);
                    break;
                case OwnerEvents.AttestationSkipped:
                    Draw([$"{target}  attestation SKIPPED (--insecure-skip-attestation): pinned to the first key seen, {e.PinnedPubkey}"]);
                    break;
                case OwnerEvents.Refused:
                    Draw([$"{target}  attestation REFUSED: {Describe(e.Attestation)}", .. (e.Attestation?.Errors ?? []).Select(x => $"{target}    {x}")]);
                    break;
                case OwnerEvents.Accepted:
                    Draw([$"{target}  {e.Operation} accepted{(e.Status == ApiStatus.Ready ? ": already done with this request" : "")}"]);
                    break;
                case OwnerEvents.Progress:
                    _board.RemoveAll(l => l.Target == target);
                    _board.AddRange(OperationLines(target, e.Operation, e.Status, e.Volumes).Select(l => (target, l)));
                    Draw([]);
                    break;
                case OwnerEvents.Status:
                    Draw([
                        $"{target}  status: {e.Status}; bootstrap: {e.Bootstrap?.Status}; passphrase: {e.Passphrase?.Status}; key {e.PinnedPubkey}",
                        .. Failure(target, e.Bootstrap), .. OperationLines(target, "bootstrap", null, e.Bootstrap?.Volumes),
                        .. Failure(target, e.Passphrase), .. OperationLines(target, "passphrase", null, e.Passphrase?.Volumes),
                    ]);
                    break;
                case OwnerEvents.Done:
                    var last = _board.Where(l => l.Target == target).Select(l => l.Line).ToList();
                    _board.RemoveAll(l => l.Target == target);
                    var verdict = e.ExitCode == ClientExit.Done ? $"done: {e.Status}" : $"FAILED: {e.Error}";
                    Draw([.. last, $"{target}  {verdict} (exit {e.ExitCode}){(e.Detail is null ? "" : $"\n{target}    {e.Detail}")}"]);
                    break;
            }
        }
    }

    public void Summarize(IReadOnlyList<TargetResult> results, int exitCode)
    {
        if (results.Count < 2)
        {
            return;
        }
        var nameWidth = Math.Max("TARGET".Length, results.Max(r => r.Name.Length));
        var outcomeWidth = Math.Max("OUTCOME".Length, results.Max(r => r.Outcome.Length));
        var lines = new List<string> { "", $"{"TARGET".PadRight(nameWidth)}  EXIT  {"OUTCOME".PadRight(outcomeWidth)}  DETAIL" };
        lines.AddRange(results.Select(r => $"{r.Name.PadRight(nameWidth)}  {r.ExitCode.ToString(CultureInfo.InvariantCulture),4}  {r.Outcome.PadRight(outcomeWidth)}  {r.Detail}".TrimEnd()));
        lines.Add($"{results.Count(r => r.ExitCode == ClientExit.Done)} of {results.Count} targets succeeded; exit {exitCode}");
        lock (_gate)
        {
            Draw(lines);
        }
    }

    private static IEnumerable<string> OperationLines(string target, string? operation, string? status, IReadOnlyDictionary<string, VolumeResult>? volumes)
    {
        if (volumes is null || volumes.Count == 0)
        {
            return status is null ? [] : [$"{target}  {operation} {status}"];
        }
        var nameWidth = volumes.Keys.Max(k => k.Length);
        return volumes.Select(v => $"{target}  {v.Key.PadRight(nameWidth)}  {Describe(v.Value)}");
    }

    private static IEnumerable<string> Failure(string target, OperationStatusResponse? operation) =>
        operation?.Error is { } error ? [$"{target}  {error}"] : [];

    private static string Describe(VolumeResult volume) => volume.Status switch
    {
        ApiStatus.Error => $"error: {volume.Error}{(volume.Detail is null ? "" : $" ({volume.Detail})")}",
        _ when volume.Step is not null => $"{volume.Status}  {volume.Step}",
        _ when volume.RevokedSlots is { } revoked => $"{volume.Status}  revoked key slots: {(revoked.Count == 0 ? "none left" : string.Join(", ", revoked))}",
        _ => volume.Status,
    };

    private static string Describe(VerifyReport? report) => report?.Kind is null
        ? "evidence"
        : $"{report.Kind}{(report.Product is null ? "" : " " + report.Product)}, signed by {report.SigningKey?.ToUpperInvariant() ?? "?"}";

    /// <summary>Prints <paramref name="lines"/> for good above the board, then the board again.</summary>
    private void Draw(IReadOnlyList<string> lines)
    {
        var text = new StringBuilder();
        if (_drawn > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Escape}{_drawn}A");
        }
        text.Append('\r').Append(Escape).Append('J');
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }
        foreach (var (_, line) in _board)
        {
            text.Append(Fit(line)).Append('\n');
        }
        _drawn = _board.Count;
        stdout.Write(text.ToString());
        stdout.Flush();
    }

    private string Fit(string line) => width > 1 && line.Length >= width ? line[..(width - 2)] + "…" : line;
}
