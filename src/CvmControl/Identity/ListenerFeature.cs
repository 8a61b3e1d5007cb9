namespace CvmControl.Identity;

/// <summary>
/// Set on every connection by the listener it came through (a connection feature, so requests see it):
/// which kind of listener, under which name (metrics and logs), and whether a local one serves the full API.
/// </summary>
internal sealed record ListenerFeature(ListenerKind Kind, string Name, bool FullApi = false)
{
    /// <summary>Whether a request for <paramref name="path"/> may be served on this listener.</summary>
    public bool Serves(string path) => Kind switch
    {
        ListenerKind.Https => true,
        ListenerKind.Local => FullApi || LocalPaths.Contains(path),
        ListenerKind.Probe => path == ProbePath,
        _ => false,
    };

    public const string ProbePath = "/api/v1/status";

    /// <summary>What a workload inside the VM may read without --unix-socket-full-api: nothing that changes the VM or returns evidence.</summary>
    public static readonly IReadOnlySet<string> LocalPaths = new HashSet<string>(StringComparer.Ordinal) { "/api/v1/status", "/api/v1/platform", "/metrics" };
}
