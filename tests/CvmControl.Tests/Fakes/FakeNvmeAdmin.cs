using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Fakes;

/// <summary>Answers Identify Namespace with captured buffers; a namespace without one fails as an unsupported command would.</summary>
internal sealed class FakeNvmeAdmin : INvmeAdmin
{
    private readonly Dictionary<(string Device, uint Nsid), byte[]> _identify = [];

    public List<(string Device, uint Nsid)> Calls { get; } = [];

    public void Identify(string device, uint nsid, byte[] data) => _identify[(device, nsid)] = data;

    public byte[] IdentifyNamespace(string device, uint nsid)
    {
        lock (Calls)
        {
            Calls.Add((device, nsid));
        }
        return _identify.TryGetValue((device, nsid), out var data)
            ? data
            : throw new IOException($"Identify Namespace {nsid} on {device} failed: Invalid argument");
    }
}
