namespace CvmControl.Client;

/// <summary>
/// Exit codes of the owner commands, for orchestrators to act on. A run over several targets exits 0
/// only when every target did; otherwise with the most serious code any target gave, in the order
/// <see cref="AttestationRefused"/>, <see cref="Failed"/>, <see cref="Unreachable"/>.
/// </summary>
internal static class ClientExit
{
    public const int Done = 0;

    /// <summary>The daemon refused the request or the operation failed.</summary>
    public const int Failed = 1;

    public const int Usage = 2;

    /// <summary>The evidence did not verify, or a later connection showed another key: nothing was sent.</summary>
    public const int AttestationRefused = 3;

    /// <summary>The daemon could not be reached, or the operation did not end in time.</summary>
    public const int Unreachable = 4;

    /// <summary>Ctrl-C: this client stopped, the daemon carries on.</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// One code for many targets. A refused attestation may be an attack and outranks everything; a
    /// failed operation needs a person; an unreachable target is most often worth another try.
    /// </summary>
    public static int Combine(IEnumerable<int> codes)
    {
        var all = codes.ToList();
        foreach (var code in (int[])[AttestationRefused, Failed, Unreachable, Interrupted])
        {
            if (all.Contains(code))
            {
                return code;
            }
        }
        return all.FirstOrDefault(c => c != Done);
    }
}
