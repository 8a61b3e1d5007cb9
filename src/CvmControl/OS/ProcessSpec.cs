namespace CvmControl.OS;

/// <summary>
/// An immutable description of one child process: an executable and an argv list, never a joined
/// command line, so nothing is ever interpreted by a shell.
/// </summary>
internal sealed record ProcessSpec(string Executable, IReadOnlyList<string> Arguments)
{
    /// <summary>Bytes written to the child's stdin, then stdin is closed. Empty means stdin is closed at once.</summary>
    public ReadOnlyMemory<byte> StandardInput { get; init; }

    /// <summary>The child is killed when this elapses.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Run the child at idle CPU priority (SCHED_IDLE, nice 10), and at nice 10 alone once it has run
    /// for <see cref="ProcessRunnerOptions.IdleGrace"/>. For KDF work: argon2 takes every core it can,
    /// and the API should keep answering status polls while it runs. The child still gets all the
    /// CPU nobody else wants.
    /// </summary>
    public bool Background { get; init; }

    /// <summary>Secrets that must never appear in a captured stream handed back to callers.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    // Deliberately prints no stdin: it may hold a passphrase.
    public override string ToString() => $"{Executable} {string.Join(' ', Arguments)}";
}

/// <summary>What a finished child left behind. Streams are already scrubbed of <see cref="ProcessSpec.Secrets"/>.</summary>
internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration);
