namespace CvmControl.Identity;

/// <summary>The TLS settings: where the server identity comes from, and who may connect.</summary>
internal sealed record TlsOptions
{
    /// <summary>CN and DNS SAN of the self-signed certificate made when no file is given.</summary>
    public string CommonName { get; init; } = "cvm-control";

    /// <summary>PEM: leaf first, then intermediates; it may also hold the key (SPIFFE's single-file layout).</summary>
    public string? CertificateFile { get; init; }

    /// <summary>PEM private key; null when <see cref="CertificateFile"/> holds it.</summary>
    public string? KeyFile { get; init; }

    /// <summary>PEM trust bundle that SPIFFE client certificates must chain to.</summary>
    public string? ClientCaFile { get; init; }

    public ClientAuthPolicy Clients { get; init; } = ClientAuthPolicy.Off;
}
