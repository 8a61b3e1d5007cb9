using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>The files a <see cref="CredentialWatch"/> keeps applied, and their contents as first loaded.</summary>
internal sealed record WatchedFiles(IReadOnlyList<string> Paths, IReadOnlyList<byte[]> Loaded);

/// <summary>
/// The TLS state a daemon starts with, loaded before the host is built: the server certificate
/// (from files, or self-signed) and the client trust bundle. Files that cannot be used at start stop
/// the daemon, because there is no earlier good state to keep.
/// </summary>
internal sealed record TlsSetup(TlsOptions Options, ServerIdentity Server, ClientTrustBundle? Bundle, WatchedFiles? ServerFiles, WatchedFiles? BundleFiles)
{
    public const string SelfSigned = "self-signed";

    /// <exception cref="CredentialException">A file is missing, unreadable or unusable.</exception>
    public static TlsSetup Load(TlsOptions options, ICredentialFiles files, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(files);
        ServedCertificate served;
        WatchedFiles? serverFiles = null;
        if (options.CertificateFile is { } certificateFile)
        {
            var paths = ServerPaths(options);
            serverFiles = new WatchedFiles(paths, [.. paths.Select(files.Read)]);
            served = ServedCertificate.ForStart(LoadServer(options, serverFiles.Loaded), certificateFile);
        }
        else
        {
            served = ServedCertificate.ForStart(new CertificateWithKey(SelfSignedCertificate.Create(options.CommonName, time), []), SelfSigned);
        }

        ClientTrustBundle? bundle = null;
        WatchedFiles? bundleFiles = null;
        if (options.ClientCaFile is { } caFile)
        {
            bundleFiles = new WatchedFiles([caFile], [files.Read(caFile)]);
            bundle = new ClientTrustBundle(PemCredentials.LoadBundle(bundleFiles.Loaded[0], caFile), caFile);
        }
        return new TlsSetup(options, new ServerIdentity(served), bundle, serverFiles, bundleFiles);
    }

    public static IReadOnlyList<string> ServerPaths(TlsOptions options) =>
        options.KeyFile is { } key ? [options.CertificateFile!, key] : [options.CertificateFile!];

    /// <summary>The certificate (and key) files' contents, one entry per <see cref="ServerPaths"/> entry.</summary>
    public static CertificateWithKey LoadServer(TlsOptions options, IReadOnlyList<byte[]> contents)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(contents);
        return options.KeyFile is { } key
            ? PemCredentials.Load(contents[0], options.CertificateFile!, contents[1], key)
            : PemCredentials.Load(contents[0], options.CertificateFile!);
    }

    /// <summary>One line about a served certificate, for logs.</summary>
    public static string Describe(ServedCertificate served) =>
        $"'{served.Certificate.Subject}', valid {served.NotBefore:yyyy-MM-dd'T'HH:mm:ss'Z'} to {served.NotAfter:yyyy-MM-dd'T'HH:mm:ss'Z'}, key {served.Pin}"
        + (served.Intermediates.Count > 0 ? $", {served.Intermediates.Count} intermediate{(served.Intermediates.Count == 1 ? "" : "s")}" : "");

    /// <summary>One line about a bundle, for logs.</summary>
    public static string Describe(IReadOnlyList<X509Certificate2> roots) =>
        $"{roots.Count} certificate{(roots.Count == 1 ? "" : "s")} ({string.Join(", ", roots.Take(4).Select(r => $"'{r.Subject}'"))}{(roots.Count > 4 ? ", ..." : "")})";
}
