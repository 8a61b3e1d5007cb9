using System.Collections.Concurrent;
using CvmControl.OS;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Fakes;

/// <summary>Device numbers and device-mapper tables as tests set them up (stat and sysfs stand-in).</summary>
internal sealed class FakeBlockDevices : IBlockDevices
{
    private uint _nextMapping;

    /// <summary>Node path → the device number stat would report.</summary>
    public ConcurrentDictionary<string, DeviceNumber> Nodes { get; } = new();

    public ConcurrentDictionary<DeviceNumber, DmDevice> Mappings { get; } = new();

    public DeviceNumber? NumberOf(string path) => Nodes.TryGetValue(path, out var number) ? number : null;

    public DmDevice? MappingOf(DeviceNumber number) => Mappings.GetValueOrDefault(number);

    /// <summary>A new dm device (253:N) named <paramref name="name"/> over <paramref name="slave"/>, whose node is <paramref name="node"/>.</summary>
    public DeviceNumber AddMapping(string node, string name, string uuid, DeviceNumber slave)
    {
        var number = new DeviceNumber(253, Interlocked.Increment(ref _nextMapping) - 1);
        Nodes[node] = number;
        Mappings[number] = new DmDevice(number, name, uuid, [slave]);
        return number;
    }
}
