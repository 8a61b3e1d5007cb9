using System.Buffers.Binary;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>Little-endian integers as byte arrays, for building TCG and Intel binary structures.</summary>
internal static class LittleEndian
{
    public static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }
}
