using System.Runtime.InteropServices;

namespace CvmControl.Hosting;

/// <summary>
/// The daemon trusts no certificate authority: it serves a self-signed certificate and opens no TLS
/// connection of its own. Yet building the server's certificate context makes .NET build a chain,
/// and that loads the whole system trust store (about 150 files in /etc/ssl/certs) at every start:
/// ~85 ms of a cold start on the host, and most of it in the TCG test guest (6.5 s for the parsing
/// alone). Pointing OpenSSL's trust locations at nothing gives the same chain (the certificate is
/// self-signed: no intermediates either way) without that load.
/// </summary>
/// <remarks>
/// .NET reads <c>SSL_CERT_FILE</c> and <c>SSL_CERT_DIR</c> through the C library's <c>getenv</c>, so
/// they are set with <c>setenv</c>, not <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// (which on Linux changes only .NET's own copy). Call it first thing in the daemon, before any TLS
/// use and before the host starts its threads. The tools the daemon runs inherit both variables
/// (.NET builds a child's environment from the C library's); none of them uses TLS.
/// <c>cvm-control verify</c> runs in its own process and never calls it.
/// </remarks>
internal static partial class NoSystemTrust
{
    /// <summary>A path that exists nowhere: an empty trust store, as file and as directory.</summary>
    public const string Nowhere = "/nonexistent/cvm-control-trusts-no-certificate-authority";

    /// <summary>Returns 0, or the errno of the first setenv that failed (then the store is loaded as before).</summary>
    public static int Apply()
    {
        foreach (var name in (string[])["SSL_CERT_FILE", "SSL_CERT_DIR"])
        {
            if (setenv(name, Nowhere, 1) != 0)
            {
                return Marshal.GetLastPInvokeError();
            }
        }
        return 0;
    }

    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
