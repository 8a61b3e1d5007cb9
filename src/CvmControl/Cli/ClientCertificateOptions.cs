using System.CommandLine;
using CvmControl.Identity;

namespace CvmControl.Cli;

/// <summary>
/// <c>--client-cert</c> and <c>--client-key</c>: the certificate a command that calls a daemon presents
/// when the daemon requires client authentication.
/// </summary>
internal sealed class ClientCertificateOptions
{
    public Option<string> Certificate { get; } = new("--client-cert") { Description = "Online: a client certificate (PEM, leaf first; may also hold the key) for a daemon that requires client authentication", HelpName = "file" };

    public Option<string> Key { get; } = new("--client-key") { Description = "Online: the private key of --client-cert (PEM: PKCS#8, SEC1 EC or RSA)", HelpName = "file" };

    public IEnumerable<Option> All => [Certificate, Key];

    public bool Given(ParseResult parse) => parse.GetValue(Certificate) is not null || parse.GetValue(Key) is not null;

    /// <summary>The certificate with its key, none when neither flag is given, or a one-line usage error.</summary>
    public (CertificateWithKey? Client, string? Error) Read(ParseResult parse)
    {
        var certificatePath = parse.GetValue(Certificate);
        var keyPath = parse.GetValue(Key);
        if (certificatePath is null)
        {
            return (null, keyPath is null ? null : "--client-key needs --client-cert");
        }
        try
        {
            var certificate = CredentialFiles.Instance.Read(certificatePath);
            return keyPath is null
                ? (PemCredentials.Load(certificate, certificatePath), null)
                : (PemCredentials.Load(certificate, certificatePath, CredentialFiles.Instance.Read(keyPath), keyPath), null);
        }
        catch (CredentialException ex)
        {
            return (null, $"--client-cert: {ex.Message}");
        }
    }
}
