using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.Tests.Fakes;

namespace CvmControl.Tests.Attestation.Platform;

public sealed class PlatformDetectorTests : IDisposable
{
    private readonly FakeRoot _root = new();

    private PlatformInfo Detect(ITsmFileSystem tsm) => new PlatformDetector(_root.Path, tsm).Detect();

    [Fact]
    public void Snp_guest_with_configfs_tsm_is_sev_snp_by_its_provider()
    {
        _root.CpuInfo("AuthenticAMD").Device("sev-guest").KernelRelease("6.8.0-1021-aws");

        var platform = Detect(FakeTsm.Snp());

        platform.Tee.Should().Be(TeeType.SevSnp);
        platform.TeeName.Should().Be("sev-snp");
        platform.TeeSource.Should().Be("configfs-tsm provider sev_guest");
        platform.ConfigFsTsm.Should().BeTrue();
        platform.TsmProvider.Should().Be("sev_guest");
        platform.CpuVendor.Should().Be("AuthenticAMD");
        platform.KernelRelease.Should().Be("6.8.0-1021-aws");
    }

    [Fact]
    public void Tdx_guest_with_configfs_tsm_is_tdx_by_its_provider()
    {
        _root.CpuInfo("GenuineIntel", "tdx_guest").Device("tdx_guest");

        var platform = Detect(FakeTsm.Tdx());

        platform.Tee.Should().Be(TeeType.Tdx);
        platform.TeeName.Should().Be("tdx");
        platform.TeeSource.Should().Be("configfs-tsm provider tdx_guest");
        platform.TsmProvider.Should().Be("tdx_guest");
        platform.CpuVendor.Should().Be("GenuineIntel");
    }

    [Fact]
    public void Tdx_guest_without_configfs_tsm_is_tdx_by_its_device_node()
    {
        _root.CpuInfo("GenuineIntel").Device("tdx_guest");

        var platform = Detect(FakeTsm.Absent());

        platform.Tee.Should().Be(TeeType.Tdx);
        platform.TeeSource.Should().Be("/dev/tdx_guest");
        platform.ConfigFsTsm.Should().BeFalse();
        platform.TsmProvider.Should().BeNull();
    }

    [Fact]
    public void Tdx_guest_without_driver_is_tdx_by_its_cpu_flag()
    {
        _root.CpuInfo("GenuineIntel", "x2apic", "tdx_guest", "hypervisor");

        var platform = Detect(FakeTsm.Absent());

        platform.Tee.Should().Be(TeeType.Tdx);
        platform.TeeSource.Should().Be("/proc/cpuinfo flag tdx_guest");
    }

    [Fact]
    public void Snp_guest_on_a_kernel_without_configfs_tsm_is_sev_snp_by_its_device_node()
    {
        _root.CpuInfo("AuthenticAMD").Device("sev-guest");

        var platform = Detect(FakeTsm.Absent());

        platform.Tee.Should().Be(TeeType.SevSnp);
        platform.TeeSource.Should().Be("/dev/sev-guest");
        platform.ConfigFsTsm.Should().BeFalse();
    }

    [Fact]
    public void Plain_vm_is_none()
    {
        _root.CpuInfo("GenuineIntel", "vmx", "hypervisor", "tdx_guest_like").KernelRelease("6.1.0-28-cloud-amd64");

        var platform = Detect(FakeTsm.Absent());

        platform.Tee.Should().Be(TeeType.None);
        platform.TeeName.Should().Be("none");
        platform.ConfigFsTsm.Should().BeFalse();
        platform.TsmProvider.Should().BeNull();
        platform.Tpm.Should().BeFalse();
        platform.KernelRelease.Should().Be("6.1.0-28-cloud-amd64");
    }

    [Fact]
    public void A_tsm_directory_whose_provider_does_not_answer_is_not_available()
    {
        _root.Device("sev-guest");
        var tsm = new FakeTsm { Provider = null };

        var platform = Detect(tsm);

        platform.ConfigFsTsm.Should().BeFalse();
        platform.TsmProvider.Should().BeNull();
        platform.Tee.Should().Be(TeeType.SevSnp, "the device node still shows the guest driver");
        tsm.Created.Should().ContainSingle();
        tsm.Live.Should().BeEmpty("the probe entry is removed even when reading provider fails");
    }

    [Fact]
    public void The_provider_probe_removes_its_entry_and_asks_for_no_report()
    {
        var tsm = FakeTsm.Snp();

        Detect(tsm);

        tsm.Created.Should().ContainSingle().Which.Should().StartWith(ConfigFsTsmProvider.EntryPrefix);
        tsm.Removed.Should().Equal(tsm.Created);
        tsm.Inblobs.Should().BeEmpty();
    }

    [Fact]
    public void An_unknown_tsm_provider_is_reported_but_is_not_a_tee_by_itself()
    {
        var platform = Detect(new FakeTsm { Provider = "arm_cca_guest" });

        platform.ConfigFsTsm.Should().BeTrue();
        platform.TsmProvider.Should().Be("arm_cca_guest");
        platform.Tee.Should().Be(TeeType.None);
    }

    [Fact]
    public void A_real_directory_with_no_kernel_behind_it_has_no_provider_and_keeps_no_probe_entry()
    {
        // mkdir in a plain directory makes no provider file, as an unregistered provider reads as an error.
        var tsmDir = Directory.CreateDirectory(Path.Combine(_root.Path, "sys/kernel/config/tsm/report")).FullName;

        var platform = Detect(new TsmFileSystem(tsmDir));

        platform.ConfigFsTsm.Should().BeFalse();
        Directory.EnumerateFileSystemEntries(tsmDir).Should().BeEmpty();
    }

    [Fact]
    public void A_missing_real_tsm_directory_is_not_available_and_is_not_created()
    {
        var tsmDir = Path.Combine(_root.Path, "sys/kernel/config/tsm/report");

        var platform = Detect(new TsmFileSystem(tsmDir));

        platform.ConfigFsTsm.Should().BeFalse();
        Directory.Exists(tsmDir).Should().BeFalse();
    }

    [Fact]
    public void Tpm_is_present_when_dev_tpmrm0_exists()
    {
        _root.Device("tpmrm0");

        Detect(FakeTsm.Absent()).Tpm.Should().BeTrue();
    }

    [Fact]
    public void Tpm_is_absent_with_only_dev_tpm0()
    {
        // The raw device without the resource manager is not what the daemon would use.
        _root.Device("tpm0");

        Detect(FakeTsm.Absent()).Tpm.Should().BeFalse();
    }

    [Fact]
    public void Missing_proc_files_leave_kernel_release_and_cpu_vendor_null()
    {
        var platform = Detect(FakeTsm.Absent());

        platform.KernelRelease.Should().BeNull();
        platform.CpuVendor.Should().BeNull();
        platform.Tee.Should().Be(TeeType.None);
    }

    [Fact]
    public void Cpuinfo_without_vendor_id_leaves_cpu_vendor_null()
    {
        // arm64 lists "CPU implementer" instead.
        _root.File("proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\n");

        Detect(FakeTsm.Absent()).CpuVendor.Should().BeNull();
    }

    [Theory]
    [InlineData("flags\t\t: fpu tdx_guest sse\n", true)]
    [InlineData("flags\t\t: tdx_guest\n", true)]
    [InlineData("flags\t\t: fpu tdx_guest_like sse\n", false)]
    [InlineData("flags\t\t: fpu sse\nbugs\t\t: tdx_guest\n", false)]
    [InlineData("", false)]
    public void Cpu_flags_match_whole_words_on_the_flags_line_only(string cpuinfo, bool expected)
    {
        PlatformDetector.HasCpuFlag(cpuinfo, "tdx_guest").Should().Be(expected);
    }

    public void Dispose() => _root.Dispose();
}
