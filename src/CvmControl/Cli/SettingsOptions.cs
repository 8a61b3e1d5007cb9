using System.CommandLine;
using System.Globalization;
using System.Net;
using CvmControl.Identity;
using CvmControl.Volumes.Devices;

namespace CvmControl.Cli;

/// <summary>
/// One daemon setting: its flag, env var, default and parser. Every flag is taken as a string and
/// parsed here, so that a bad flag and a bad env var get the same one-line message. A repeatable
/// setting takes its flag any number of times; its env var holds a list separated by commas or
/// whitespace, and any flag replaces the whole env list.
/// </summary>
internal sealed class Setting
{
    private readonly Func<string, DaemonSettings, (DaemonSettings? Settings, string? Error)> _apply;

    /// <param name="switchLike">The flag may be given alone (its value is then empty), or with a value.</param>
    public Setting(string flag, string env, string defaultText, string description, string valueName, Func<string, DaemonSettings, (DaemonSettings? Settings, string? Error)> apply, bool repeatable = false, bool switchLike = false)
    {
        Flag = flag;
        Env = env;
        _apply = apply;
        Repeatable = repeatable;
        var help = $"{description} [env: {env}{(repeatable ? ", a comma-separated list" : "")}] [default: {defaultText}]";
        Option = repeatable
            ? new Option<string[]>(flag) { Description = help, HelpName = valueName, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false }
            : new Option<string>(flag) { Description = help, HelpName = valueName, Arity = switchLike ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
    }

    public Option Option { get; }

    public string Flag { get; }

    public string Env { get; }

    public bool Repeatable { get; }

    /// <summary>Flag beats env var beats default. An empty env var counts as unset.</summary>
    public (DaemonSettings? Settings, string? Error) Resolve(ParseResult parse, Func<string, string?> getEnv, DaemonSettings settings)
    {
        IReadOnlyList<string> values;
        string source;
        if (parse.GetResult(Option) is { Implicit: false })
        {
            values = Option is Option<string[]> many ? parse.GetValue(many) ?? [] : [parse.GetValue((Option<string>)Option) ?? ""];
            source = Flag;
        }
        else if (getEnv(Env) is { Length: > 0 } fromEnv)
        {
            values = Repeatable ? fromEnv.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries) : [fromEnv];
            source = Env;
        }
        else
        {
            return (settings, null);
        }
        foreach (var raw in values)
        {
            var (updated, error) = _apply(raw, settings);
            if (error is not null)
            {
                return (null, $"invalid {source} \"{Validation.Printable.Of(raw)}\": {error}");
            }
            settings = updated!;
        }
        return (settings, null);
    }
}

internal static class SettingsOptions
{
    public static readonly IReadOnlyList<Setting> All =
    [
        new("--address", "CVM_CONTROL_ADDRESS", "0.0.0.0", "IP address to listen on", "ip", (raw, s) =>
            IsIpLiteral(raw, out var ip) ? (s with { Address = ip }, null) : (null, "not an IP address")),
        new("--port", "CVM_CONTROL_PORT", "9443", "HTTPS port", "port", (raw, s) =>
            int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
                ? (s with { Port = port }, null)
                : (null, "must be a whole number from 1 to 65535")),
        new("--tls-cn", "CVM_CONTROL_TLS_CN", "cvm-control", "Common name (and DNS SAN) of the self-signed TLS certificate", "name", (raw, s) =>
            IsHostName(raw) ? (s with { TlsCommonName = raw }, null) : (null, "must be a non-empty DNS name or IP address")),
        new("--log-level", "CVM_CONTROL_LOG_LEVEL", "info", "Log level: debug, info, warn or error", "level", (raw, s) => raw switch
        {
            "debug" => (s with { LogLevel = LogLevel.Debug }, null),
            "info" => (s with { LogLevel = LogLevel.Information }, null),
            "warn" => (s with { LogLevel = LogLevel.Warning }, null),
            "error" => (s with { LogLevel = LogLevel.Error }, null),
            _ => (null, "must be debug, info, warn or error"),
        }),
        new("--log-format", "CVM_CONTROL_LOG_FORMAT", "json", "Log format: json or text", "format", (raw, s) => raw switch
        {
            "json" => (s with { LogFormat = LogFormat.Json }, null),
            "text" => (s with { LogFormat = LogFormat.Text }, null),
            _ => (null, "must be json or text"),
        }),
        new("--run-dir", "CVM_CONTROL_RUN_DIR", "/run/cvm", "Runtime state directory: env files, secrets, bootstrap record", "dir", (raw, s) =>
            IsAbsoluteNormalisedPath(raw)
                ? (s with { RunDir = raw.TrimEnd('/') }, null)
                : (null, "must be an absolute, normalised path other than /")),
        new("--device-timeout", "CVM_CONTROL_DEVICE_TIMEOUT", "30s", "How long to wait for a volume's device to attach (e.g. 30s, 2m, 500ms)", "duration", (raw, s) =>
            ParseDuration(raw) is { } timeout && timeout > TimeSpan.Zero && timeout <= TimeSpan.FromHours(1)
                ? (s with { DeviceTimeout = timeout }, null)
                : (null, "must be a duration from 1ms to 1h, such as 30s, 2m or 500ms")),
        new("--luks-pbkdf-memory", "CVM_CONTROL_LUKS_PBKDF_MEMORY", "cryptsetup's", "Argon2id memory cost of new keyslots, in KiB", "kib", (raw, s) =>
            int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var kib) && kib is >= 32 and <= 4 * 1024 * 1024
                ? (s with { LuksPbkdfMemoryKiB = kib }, null)
                : (null, "must be a whole number of KiB from 32 to 4194304")),
        new("--luks-iter-time", "CVM_CONTROL_LUKS_ITER_TIME", "cryptsetup's", "PBKDF time cost of new keyslots, in ms", "ms", (raw, s) =>
            int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is >= 1 and <= 600_000
                ? (s with { LuksIterTimeMs = ms }, null)
                : (null, "must be a whole number of ms from 1 to 600000")),
        new("--tsm-dir", "CVM_CONTROL_TSM_DIR", "/sys/kernel/config/tsm/report", "configfs-tsm report directory for attestation evidence (Linux 6.7 and later)", "dir", (raw, s) =>
            IsAbsoluteNormalisedPath(raw)
                ? (s with { TsmDir = raw.TrimEnd('/') }, null)
                : (null, "must be an absolute, normalised path other than /")),
        new("--ccel-path", "CVM_CONTROL_CCEL_PATH", "/sys/firmware/acpi/tables/data/CCEL", "TDX event log (ACPI CCEL table) sent with a quote when it exists", "file", (raw, s) =>
            IsAbsoluteNormalisedPath(raw) && !raw.EndsWith('/')
                ? (s with { CcelPath = raw }, null)
                : (null, "must be an absolute, normalised file path")),
        new("--tls-cert", "CVM_CONTROL_TLS_CERT", "a self-signed certificate", "TLS certificate file (PEM, leaf first, then intermediates; may also hold the key), reloaded when it changes", "file", (raw, s) =>
            FilePath(raw) is { } path ? (s with { TlsCertFile = path }, null) : (null, FilePathError)),
        new("--tls-key", "CVM_CONTROL_TLS_KEY", "the key in --tls-cert", "TLS private key file (PEM: PKCS#8, SEC1 EC or RSA), reloaded when it changes", "file", (raw, s) =>
            FilePath(raw) is { } path ? (s with { TlsKeyFile = path }, null) : (null, FilePathError)),
        new("--client-ca", "CVM_CONTROL_CLIENT_CA", "none", "Trust bundle (PEM) that client X.509-SVIDs must chain to; reloaded when it changes. Needs --allow-client", "file", (raw, s) =>
            FilePath(raw) is { } path ? (s with { ClientCaFile = path }, null) : (null, FilePathError)),
        new("--allow-client", "CVM_CONTROL_ALLOW_CLIENT", "none", "A client SPIFFE ID to allow, or spiffe://trust.domain/path/* for all below a path (repeatable). Turns on client authentication", "spiffe-id", (raw, s) =>
            SpiffeIdPattern.TryParse(raw, out var error) is { } pattern
                ? (s.AllowedClients.Contains(pattern) ? s : s with { AllowedClients = [.. s.AllowedClients, pattern] }, null)
                : (null, $"not a SPIFFE ID: it {error}"), repeatable: true),
        new("--allow-client-key", "CVM_CONTROL_ALLOW_CLIENT_KEY", "none", "A client public key to allow, as sha256//BASE64 of its SubjectPublicKeyInfo, like curl --pinnedpubkey (repeatable). Turns on client authentication", "pin", (raw, s) =>
            KeyPin.TryParse(raw, out var error) is { } pin
                ? (s.AllowedClientKeys.Contains(pin) ? s : s with { AllowedClientKeys = [.. s.AllowedClientKeys, pin] }, null)
                : (null, error), repeatable: true),
        new("--unix-socket", "CVM_CONTROL_UNIX_SOCKET", "none", "Unix socket serving plain HTTP to workloads inside the VM (status, platform and metrics); its directory's and its own mode and owner govern access", "path", (raw, s) =>
            IsAbsoluteNormalisedPath(raw) && !raw.EndsWith('/') && System.Text.Encoding.UTF8.GetByteCount(raw) <= MaxUnixSocketPath
                ? (s with { UnixSocket = raw }, null)
                : (null, $"must be an absolute, normalised file path of at most {MaxUnixSocketPath} bytes")),
        new("--unix-socket-full-api", "CVM_CONTROL_UNIX_SOCKET_FULL_API", "false", "Serve the whole API, not only status, platform and metrics, on Unix sockets (--unix-socket and passed ones)", "true|false", (raw, s) => raw switch
        {
            "" or "true" => (s with { UnixSocketFullApi = true }, null),
            "false" => (s with { UnixSocketFullApi = false }, null),
            _ => (null, "must be true or false, or the flag alone"),
        }, switchLike: true),
        new("--cloud", "CVM_CONTROL_CLOUD", "auto", "Whose disk naming volume_id follows: auto (from DMI), aws, gcp, azure or generic", "cloud", (raw, s) =>
            raw == "auto" ? (s with { Cloud = null }, null)
            : CloudNames.Parse(raw) is { } cloud ? (s with { Cloud = cloud }, null)
            : (null, "must be auto, aws, gcp, azure or generic")),
    ];

    private const string FilePathError = "must be a file path";

    /// <summary>sun_path holds 108 bytes, one of them the terminating NUL.</summary>
    private const int MaxUnixSocketPath = 107;

    /// <summary><c>30</c> and <c>30s</c> are seconds; <c>ms</c>, <c>m</c> and <c>h</c> suffixes also work.</summary>
    internal static TimeSpan? ParseDuration(string raw)
    {
        var (number, unit) = raw.EndsWith("ms", StringComparison.Ordinal) ? (raw[..^2], 1.0)
            : raw.EndsWith('s') ? (raw[..^1], 1000.0)
            : raw.EndsWith('m') ? (raw[..^1], 60_000.0)
            : raw.EndsWith('h') ? (raw[..^1], 3_600_000.0)
            : (raw, 1000.0);
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= 0 && value <= 1e9
            ? TimeSpan.FromMilliseconds(value * unit)
            : null;
    }

    public static (DaemonSettings? Settings, string? Error) Resolve(ParseResult parse, Func<string, string?> getEnv)
    {
        var settings = new DaemonSettings();
        foreach (var setting in All)
        {
            var (updated, error) = setting.Resolve(parse, getEnv, settings);
            if (error is not null)
            {
                return (null, error);
            }
            settings = updated!;
        }
        return Consistency(settings) is { } inconsistent ? (null, inconsistent) : (settings, null);
    }

    /// <summary>Settings that only make sense together.</summary>
    private static string? Consistency(DaemonSettings settings) =>
        settings.TlsKeyFile is not null && settings.TlsCertFile is null ? "--tls-key needs --tls-cert"
        : settings.AllowedClients.Count > 0 && settings.ClientCaFile is null ? "--allow-client needs --client-ca, the trust bundle that client certificates must chain to"
        : settings.ClientCaFile is not null && settings.AllowedClients.Count == 0 ? "--client-ca needs at least one --allow-client naming who may connect"
        : null;

    /// <summary>Any path but an empty one; relative ones are made absolute now, so a later chdir cannot move them.</summary>
    private static string? FilePath(string raw) =>
        raw.Length is > 0 and <= 4096 && !raw.Any(char.IsControl) && raw.Trim() == raw ? Path.GetFullPath(raw) : null;

    /// <summary>Absolute and normalised once trailing slashes go; <c>/</c> (or <c>//</c>) is refused.</summary>
    private static bool IsAbsoluteNormalisedPath(string raw) =>
        raw.StartsWith('/') && raw.TrimEnd('/') is { Length: > 0 } trimmed && !raw.Any(char.IsControl) && Validation.MountPoints.IsNormalised(trimmed);

    /// <summary>Full literals only: .NET also parses shorthands such as "1" or "127.1", which would surprise.</summary>
    private static bool IsIpLiteral(string raw, out IPAddress address)
    {
        address = IPAddress.None;
        if (raw.Trim() != raw || !IPAddress.TryParse(raw, out var parsed))
        {
            return false;
        }
        if (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && raw.Count(c => c == '.') != 3)
        {
            return false;
        }
        address = parsed;
        return true;
    }

    private static bool IsHostName(string raw) =>
        raw.Length is > 0 and <= 253
        && (IPAddress.TryParse(raw, out _) || Uri.CheckHostName(raw) == UriHostNameType.Dns);
}
