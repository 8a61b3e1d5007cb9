using CvmControl.Api.V1;

namespace CvmControl.Client;

/// <summary>Where the targets' events go: live lines on a terminal, JSON objects otherwise. Called from many targets at once.</summary>
internal interface IProgressSink
{
    void Report(OwnerEvent e);

    /// <summary>After every target is done: the table (or summary object) of a run over several targets.</summary>
    void Summarize(IReadOnlyList<TargetResult> results, int exitCode);
}
