using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// Identify Namespace through the kernel's NVMe passthrough ioctl (<c>NVME_IOCTL_ADMIN_CMD</c>,
/// <c>linux/nvme_ioctl.h</c>), the same command <c>nvme id-ns</c> sends. The device is opened read-only.
/// </summary>
internal sealed partial class NvmeAdmin : INvmeAdmin
{
    public const int IdentifyBytes = 4096;

    private const byte AdminIdentify = 0x06;
    private const uint CnsNamespace = 0;

    // _IOWR('N', 0x41, struct nvme_passthru_cmd): direction 3, size 72, type 'N', number 0x41.
    internal const uint IoctlAdminCommand = 0xC0484E41;

    public byte[] IdentifyNamespace(string device, uint nsid)
    {
        var buffer = GC.AllocateArray<byte>(IdentifyBytes, pinned: true);
        using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var command = new PassthruCommand
        {
            Opcode = AdminIdentify,
            Nsid = nsid,
            Addr = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0),
            DataLen = IdentifyBytes,
            Cdw10 = CnsNamespace,
        };
        var rc = Ioctl(handle, IoctlAdminCommand, ref command);
        if (rc != 0)
        {
            // A negative value is an errno; a positive one is the NVMe status the controller returned.
            var why = rc < 0 ? Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()) : $"NVMe status 0x{rc:x}";
            throw new IOException($"Identify Namespace {nsid} on {device} failed: {why}");
        }
        return buffer;
    }

    /// <summary><c>struct nvme_passthru_cmd</c> (72 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PassthruCommand
    {
        public byte Opcode;
        public byte Flags;
        public ushort Reserved1;
        public uint Nsid;
        public uint Cdw2;
        public uint Cdw3;
        public ulong Metadata;
        public ulong Addr;
        public uint MetadataLen;
        public uint DataLen;
        public uint Cdw10;
        public uint Cdw11;
        public uint Cdw12;
        public uint Cdw13;
        public uint Cdw14;
        public uint Cdw15;
        public uint TimeoutMs;
        public uint Result;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, nuint request, ref PassthruCommand command);
}
