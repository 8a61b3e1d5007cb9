using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes;

public sealed class AwsNvmeDeviceResolverTests : IDisposable
{
    private readonly TempDir _root = new();
    private readonly AwsNvmeDeviceResolver _resolver;

    public AwsNvmeDeviceResolverTests()
    {
        Directory.CreateDirectory(_root.Combine("dev", "disk", "by-id"));
        _resolver = new AwsNvmeDeviceResolver(
            Options.Create(new DeviceOptions { DevRoot = _root.Combine("dev"), SysRoot = _root.Combine("sys"), Timeout = TimeSpan.FromMilliseconds(400), PollInterval = TimeSpan.FromMilliseconds(50) }),
            TimeProvider.System, NullLogger<AwsNvmeDeviceResolver>.Instance);
    }

    private void Node(string name) => File.WriteAllText(_root.Combine("dev", name), "");

    private void Link(string linkName, string node) => File.CreateSymbolicLink(_root.Combine("dev", "disk", "by-id", linkName), "../../" + node);

    private void SysBlock(string name, string serial)
    {
        Directory.CreateDirectory(_root.Combine("sys", "block", name, "device"));
        File.WriteAllText(_root.Combine("sys", "block", name, "device", "serial"), serial + "    \n");
    }

    [Theory]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123")]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123_1")]
    [InlineData("nvme-Amazon_Elastic_Block_Store_vol0abc123-ns-1")]
    public async Task Resolves_each_by_id_link_form_to_the_real_device(string link)
    {
        Node("nvme2n1");
        Link(link, "nvme2n1");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_root.Combine("dev", "nvme2n1"));
    }

    [Fact]
    public async Task Falls_back_to_the_controller_serial_in_sysfs_padded_as_nvme_pads_it()
    {
        SysBlock("nvme1n1", "vol0zzz999");
        SysBlock("nvme2n1", "vol0abc123");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_root.Combine("dev", "nvme2n1"));
    }

    [Fact]
    public async Task Of_a_controllers_namespaces_the_sysfs_scan_takes_namespace_1()
    {
        // The serial belongs to the controller, so every namespace of it shows the same one.
        SysBlock("nvme0n2", "vol0abc123");
        SysBlock("nvme0n1", "vol0abc123");
        SysBlock("nvme0n3", "vol0abc123");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_root.Combine("dev", "nvme0n1"));
    }

    [Fact]
    public async Task A_by_id_link_is_followed_to_the_final_device_node()
    {
        Node("nvme4n1");
        File.CreateSymbolicLink(_root.Combine("dev", "nvme-alias"), "nvme4n1");
        Link("nvme-Amazon_Elastic_Block_Store_vol0abc123", "nvme-alias");

        (await _resolver.ResolveAsync("vol-0abc123", CancellationToken.None)).Should().Be(_root.Combine("dev", "nvme4n1"));
    }

    [Fact]
    public async Task Waits_for_a_device_that_attaches_late()
    {
        // The device attaches once the resolver has looked and missed (it logs that it waits); the
        // generous timeout keeps a loaded machine from turning the wait into a failure.
        var waiting = new WaitingLogger();
        var resolver = new AwsNvmeDeviceResolver(
            Options.Create(new DeviceOptions { DevRoot = _root.Combine("dev"), SysRoot = _root.Combine("sys"), Timeout = TimeSpan.FromSeconds(60), PollInterval = TimeSpan.FromMilliseconds(50) }),
            TimeProvider.System, waiting);

        var resolve = resolver.ResolveAsync("vol-0late", CancellationToken.None);
        await waiting.Missed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        resolve.IsCompleted.Should().BeFalse();
        Node("nvme3n1");
        Link("nvme-Amazon_Elastic_Block_Store_vol0late", "nvme3n1");

        (await resolve.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(_root.Combine("dev", "nvme3n1"));
    }

    /// <summary>Completes <see cref="Missed"/> when the resolver says it is waiting for the volume to attach.</summary>
    private sealed class WaitingLogger : ILogger<AwsNvmeDeviceResolver>
    {
        public TaskCompletionSource Missed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).StartsWith("Waiting up to", StringComparison.Ordinal))
            {
                Missed.TrySetResult();
            }
        }
    }

    [Fact]
    public async Task Gives_up_after_the_timeout_naming_the_volume_and_the_paths()
    {
        var act = () => _resolver.ResolveAsync("vol-0none", CancellationToken.None);

        var error = (await act.Should().ThrowAsync<VolumeOperationException>()).Which;
        error.Message.Should().Be("device not found");
        error.Detail.Should().StartWith("volume vol-0none did not appear within 0.4 s; tried ")
            .And.Contain(_root.Combine("dev", "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_vol0none"))
            .And.Contain(_root.Combine("sys", "block", "nvme*", "device", "serial") + " = vol0none");
    }
    public void Dispose() => _root.Dispose();
}
