using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class AwsNvmeDeviceResolverTests : IDisposable
{
    // The EBS controller model, as amazon-ec2-utils' udev rules match it.
    private const string EbsModel = "Amazon Elastic Block Store";

    private readonly FakeSysfs _sys = new();
    private readonly AwsNvmeDeviceResolver _resolver;

    public AwsNvmeDeviceResolverTests()
    {
        _resolver = Resolvers.Aws(_sys);
    }

    [Theory]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123")]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123_1")]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123-ns-1")]
    public async Task Resolves_each_by_id_link_form_to_the_real_device(string link)
    {
        // QEMU's NVMe controller, as in the VM test bed: only the link says EBS.
        _sys.Nvme("nvme2n1", "QEMU-SERIAL").Link("by-id/" + link, "../../nvme2n1");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_sys.Node("nvme2n1"));
    }

    [Fact]
    public async Task Falls_back_to_the_controller_serial_in_sysfs_padded_as_nvme_pads_it()
    {
        _sys.Nvme("nvme1n1", "vol0zzz999", EbsModel);
        _sys.Nvme("nvme2n1", "vol0abc123", EbsModel);

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_sys.Node("nvme2n1"));
    }

    [Fact]
    public async Task Two_namespaces_with_the_volumes_serial_are_refused_naming_both()
    {
        _sys.Nvme("nvme1n1", "vol0abc123", EbsModel);
        _sys.Nvme("nvme2n1", "vol0abc123", EbsModel);
        _sys.Link("by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123", "../../nvme2n1");

        var error = await Resolvers.FailureOf(_resolver, "vol-0abc123");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().StartWith($"volume vol-0abc123 matches {_sys.Node("nvme1n1")} (NVMe serial vol0abc123) and {_sys.Node("nvme2n1")} (")
            .And.Contain("nvme-Amazon_Elastic_Block_Store_vol0abc123; NVMe serial vol0abc123");
    }

    [Fact]
    public async Task Of_a_controllers_namespaces_the_sysfs_scan_takes_namespace_1()
    {
        // The serial belongs to the controller, so every namespace of it shows the same one.
        _sys.Nvme("nvme0n2", "vol0abc123", EbsModel);
        _sys.Nvme("nvme0n1", "vol0abc123", EbsModel);
        _sys.Nvme("nvme0n3", "vol0abc123", EbsModel);

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_sys.Node("nvme0n1"));
    }

    [Fact]
    public async Task A_by_id_link_is_followed_to_the_final_device_node()
    {
        _sys.Nvme("nvme4n1", "QEMU-SERIAL");
        File.CreateSymbolicLink(Path.Combine(_sys.Dev, "nvme-alias"), "nvme4n1");
        _sys.Link("by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123", "../../nvme-alias");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_sys.Node("nvme4n1"));
    }

    [Fact]
    public async Task Waits_for_a_device_that_attaches_after_the_first_look()
    {
        _sys.Options.Timeout = TimeSpan.FromSeconds(60);
        var log = new RecordingLogger<AwsNvmeDeviceResolver>();
        var resolver = new AwsNvmeDeviceResolver(_sys.View(), Microsoft.Extensions.Options.Options.Create(_sys.Options), TimeProvider.System, log);

        var resolving = resolver.ResolveAsync("vol-0late", CancellationToken.None);
        await log.WaitFor("Waiting up to 60 s for volume vol-0late", TimeSpan.FromSeconds(60));
        _sys.Nvme("nvme3n1", "QEMU-SERIAL").Link("by-id/nvme-Amazon_Elastic_Block_Store_vol0late", "../../nvme3n1");

        (await resolving).Should().Be(_sys.Node("nvme3n1"));
    }

    [Fact]
    public async Task Gives_up_after_the_timeout_naming_the_volume_and_the_paths()
    {
        var error = await Resolvers.FailureOf(_resolver, "vol-0none");

        error.Message.Should().Be("device not found");
        error.Detail.Should().StartWith("volume vol-0none did not appear within 0.4 s; tried ")
            .And.Contain(Path.Combine(_sys.Dev, "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_vol0none"))
            .And.Contain(Path.Combine(_sys.Sys, "block", "nvme*", "device", "serial") + " = vol0none");
    }

    public void Dispose() => _sys.Dispose();
}
