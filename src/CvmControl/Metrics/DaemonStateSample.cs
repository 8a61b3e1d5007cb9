namespace CvmControl.Metrics;

/// <summary>
/// The daemon's state as metrics show it: <see cref="State"/> is one of <see cref="States"/> (the API's
/// status words), <see cref="Operation"/> one of <see cref="OperationKinds"/> or null when none runs.
/// </summary>
internal readonly record struct DaemonStateSample(string State, string? Operation)
{
    public static readonly IReadOnlyList<string> States = ["bootstrap", "ready", "shutdown"];

    public static readonly IReadOnlyList<string> OperationKinds = ["bootstrap", "passphrase"];
}
