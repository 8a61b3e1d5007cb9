using System.Buffers.Binary;
using System.Net.Sockets;

namespace CvmControl.OS;

/// <summary>The process at the other end of a connected Unix socket, as the kernel recorded it (SO_PEERCRED).</summary>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Null when the socket is not a connected AF_UNIX socket or the kernel gives no credentials.</summary>
    public static PeerCredentials? Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.AddressFamily != AddressFamily.Unix)
        {
            return null;
        }
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields in host order.
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) != ucred.Length)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }
        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(ucred),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }
}
