using System.Net;
using CvmControl.Identity;
using CvmControl.Volumes.Devices;

namespace CvmControl.Cli;

internal enum LogFormat
{
    Json,
    Text,
}

/// <summary>The daemon's resolved configuration: flag, then env var, then default.</summary>
internal sealed record DaemonSettings
{
    public IPAddress Address { get; init; } = IPAddress.Any;

    public int Port { get; init; } = 9443;

    public string TlsCommonName { get; init; } = "cvm-control";

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public LogFormat LogFormat { get; init; } = LogFormat.Json;

    public string RunDir { get; init; } = "/run/cvm";

    public TimeSpan DeviceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Argon2 memory of new keyslots in KiB; null keeps cryptsetup's default.</summary>
    public int? LuksPbkdfMemoryKiB { get; init; }

    /// <summary>PBKDF iteration time of new keyslots in ms; null keeps cryptsetup's default.</summary>
    public int? LuksIterTimeMs { get; init; }

    /// <summary>The configfs-tsm report directory through which attestation evidence is obtained.</summary>
    public string TsmDir { get; init; } = "/sys/kernel/config/tsm/report";

    /// <summary>A Unix socket serving plain HTTP to workloads inside the VM; null for none.</summary>
    public string? UnixSocket { get; init; }

    /// <summary>Whether local Unix sockets serve the whole API rather than status, platform and metrics.</summary>
    public bool UnixSocketFullApi { get; init; }

    /// <summary>The ACPI CCEL table: the TDX event log sent with a quote when it exists.</summary>
    public string CcelPath { get; init; } = "/sys/firmware/acpi/tables/data/CCEL";

    /// <summary>Server certificate file (PEM); null for a self-signed certificate.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>Server key file (PEM); null when <see cref="TlsCertFile"/> holds the key.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>Trust bundle (PEM) for SPIFFE client certificates.</summary>
    public string? ClientCaFile { get; init; }

    public IReadOnlyList<SpiffeIdPattern> AllowedClients { get; init; } = [];

    public IReadOnlyList<KeyPin> AllowedClientKeys { get; init; } = [];

    /// <summary>Where to listen, for the identity room.</summary>
    public ListenerOptions Listeners => new()
    {
        Address = Address,
        Port = Port,
        UnixSocket = UnixSocket,
        UnixSocketFullApi = UnixSocketFullApi,
    };

    /// <summary>Everything about TLS, for the identity room.</summary>
    public TlsOptions Tls => new()
    {
        CommonName = TlsCommonName,
        CertificateFile = TlsCertFile,
        KeyFile = TlsKeyFile,
        ClientCaFile = ClientCaFile,
        Clients = new ClientAuthPolicy(AllowedClients, AllowedClientKeys),
    };
    /// <summary>The cloud whose disk naming <c>volume_id</c> follows; null is <c>auto</c> (detected from DMI at start).</summary>
    public CloudKind? Cloud { get; init; }
}
