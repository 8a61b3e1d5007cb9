using System.Collections.Concurrent;
using System.Text;
using CvmControl.OS;

namespace CvmControl.Tests.Tools;

/// <summary>
/// A process runner that answers from a script and records what each wrapper asked for: the argv, the
/// exact stdin bytes, the secrets handed over for scrubbing, and what a step's files held while it ran.
/// </summary>
internal sealed class ScriptedRunner(Func<ProcessSpec, ProcessResult>? answer = null) : IProcessRunner
{
    public ConcurrentQueue<(ProcessSpec Spec, byte[] Stdin)> Calls { get; } = new();

    /// <summary>Runs while the child would run: lets a test look at key files that exist only then.</summary>
    public Action<ProcessSpec>? During { get; set; }

    public (ProcessSpec Spec, byte[] Stdin) Single => Calls.Should().ContainSingle().Subject;

    public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue((spec, spec.StandardInput.ToArray()));
        During?.Invoke(spec);
        return Task.FromResult(answer?.Invoke(spec) ?? Exit(0));
    }

    public static ProcessResult Exit(int code, string stdout = "", string stderr = "") => new(code, stdout, stderr, TimeSpan.Zero);

    public static ScriptedRunner Answering(int code, string stdout = "", string stderr = "") => new(_ => Exit(code, stdout, stderr));

    public static ScriptedRunner Throwing(ProcessException failure) => new(_ => throw failure);

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
