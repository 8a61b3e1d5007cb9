using CvmControl.Metrics;
using CvmControl.Tests.Fakes;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Integrity;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes;

/// <summary>The real pipeline and rotator over the simulated disk world and a fake /dev tree.</summary>
internal sealed class PipelineHarness : IDisposable
{
    /// <param name="kdfBudgetBytes">The KDF gate's memory budget.</param>
    /// <param name="cost">The configured cost of new keyslots (default: 32 MiB argon2, 100 ms).</param>
    public PipelineHarness(long kdfBudgetBytes = 4L * 1024 * 1024 * 1024, LuksCost? cost = null, CvmMetrics? metrics = null)
    {
        cost ??= new LuksCost(32768, 100);
        Root = new TempDir();
        Mounts = new FakeMountTable();
        Blocks = new FakeBlockDevices();
        World = new FakeDiskWorld(Root.Combine("dev"), Mounts, Blocks);
        Kdf = new KdfGate(kdfBudgetBytes, KdfGate.NewSlotCostOf(cost), metrics);
        Sysfs = new FakeSysfs(Root.Path, Mounts);
        Sysfs.Options.Timeout = TimeSpan.FromMilliseconds(300);
        var deviceOptions = Options.Create(Sysfs.Options);
        var volumeOptions = Options.Create(new VolumeOptions { Cost = cost, KeyDirectory = Root.Combine("run", "keys") });
        Resolver = new AwsNvmeDeviceResolver(Sysfs.View(), deviceOptions, TimeProvider.System, NullLogger<AwsNvmeDeviceResolver>.Instance);
        var cryptsetup = new Cryptsetup(World);
        var keys = new KeyDirectory(volumeOptions, Mounts);
        var headers = new HeaderGuard(cryptsetup, keys);
        var writeBack = new HeaderWriteBack(headers, Log.CreateLogger<HeaderWriteBack>());
        var blank = new BlankCheck(deviceOptions);
        var sizes = new NodeSizes(Blocks, deviceOptions);
        var integrity = new IntegrityLayers(new Dmsetup(World), new Integritysetup(World), new Dmesg(World), Blocks, sizes, keys, blank, deviceOptions);
        Pipeline = new LuksVolumePipeline(Resolver, cryptsetup, new Blkid(World), new E2fsprogs(World), new Mounter(World), Mounts, Kdf,
            headers, writeBack, new MappingProof(Blocks, headers, cryptsetup, Kdf), blank, integrity, keys, sizes, TimeProvider.System,
            volumeOptions, deviceOptions, Log.CreateLogger<LuksVolumePipeline>(), metrics);
        Rotator = new LuksPassphraseRotator(Resolver, cryptsetup, Kdf, keys, headers, writeBack, volumeOptions, Log.CreateLogger<LuksPassphraseRotator>());
    }

    public TempDir Root { get; }

    /// <summary>What the pipeline, the rotator and the write-back logged.</summary>
    public ListLogger Log { get; } = new();

    public FakeMountTable Mounts { get; }

    /// <summary>The fake sysfs and /dev the resolver reads.</summary>
    public FakeSysfs Sysfs { get; }

    public FakeDiskWorld World { get; }

    public FakeBlockDevices Blocks { get; }

    public KdfGate Kdf { get; }

    public AwsNvmeDeviceResolver Resolver { get; }

    public LuksVolumePipeline Pipeline { get; }

    public LuksPassphraseRotator Rotator { get; }

    public string Mapper(string dm) => Root.Combine("dev", "mapper", dm);

    /// <summary>An attached EBS volume: its device node, its sysfs entry and the by-id link udev would make.</summary>
    public FakeDiskWorld.Disk Attach(string volumeId, string node) => World.Attach(Sysfs, volumeId, node);

    public VolumeTarget Target(string dm, string volumeId) => new(dm, volumeId, Root.Combine("mnt", dm));

    public void Dispose()
    {
        Root.Dispose();
    }
}
