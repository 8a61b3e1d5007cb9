using System.Runtime.InteropServices;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class NvmeAdminTests
{
    [Fact]
    public void The_passthrough_command_has_the_kernels_layout_and_the_ioctl_number_encodes_its_size()
    {
        // struct nvme_passthru_cmd in linux/nvme_ioctl.h: 72 bytes, addr at 24, data_len at 36, cdw10 at 40.
        Marshal.SizeOf<NvmeAdmin.PassthruCommand>().Should().Be(72);
        Marshal.OffsetOf<NvmeAdmin.PassthruCommand>(nameof(NvmeAdmin.PassthruCommand.Nsid)).Should().Be(4);
        Marshal.OffsetOf<NvmeAdmin.PassthruCommand>(nameof(NvmeAdmin.PassthruCommand.Addr)).Should().Be(24);
        Marshal.OffsetOf<NvmeAdmin.PassthruCommand>(nameof(NvmeAdmin.PassthruCommand.DataLen)).Should().Be(36);
        Marshal.OffsetOf<NvmeAdmin.PassthruCommand>(nameof(NvmeAdmin.PassthruCommand.Cdw10)).Should().Be(40);
        Marshal.OffsetOf<NvmeAdmin.PassthruCommand>(nameof(NvmeAdmin.PassthruCommand.Result)).Should().Be(68);
        // _IOWR('N', 0x41, 72): read|write in the top two bits, then the size, the type and the number.
        NvmeAdmin.IoctlAdminCommand.Should().Be((3u << 30) | (72u << 16) | ((uint)'N' << 8) | 0x41);
    }

    [Fact]
    public void A_device_that_cannot_be_opened_fails_with_an_io_error()
    {
        var act = () => new NvmeAdmin().IdentifyNamespace("/nonexistent/nvme0n1", 1);

        act.Should().Throw<IOException>();
    }

    [Fact]
    public void A_file_that_is_not_an_nvme_device_refuses_the_ioctl()
    {
        using var dir = new TempDir();
        var file = dir.Combine("not-nvme");
        File.WriteAllBytes(file, new byte[8192]);

        var act = () => new NvmeAdmin().IdentifyNamespace(file, 1);

        act.Should().Throw<IOException>().WithMessage($"Identify Namespace 1 on {file} failed: *");
    }
}
