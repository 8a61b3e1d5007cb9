using CvmControl.Attestation.Evidence;

namespace CvmControl.Tests.Fakes;

/// <summary>An event log source that returns what the test gives it and counts how often it was asked.</summary>
internal sealed class StubEventLogSource(byte[]? log = null) : IEventLogSource
{
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public byte[]? Read()
    {
        Interlocked.Increment(ref _reads);
        return log;
    }
}
