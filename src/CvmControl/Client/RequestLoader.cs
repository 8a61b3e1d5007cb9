using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.OS;

namespace CvmControl.Client;

/// <summary>
/// Reads the request of <c>bootstrap</c> or <c>rotate</c> from a file or stdin, so that no secret is
/// ever on the command line. A passphrase field may instead name a file (<c>"passphrase_file"</c>) or
/// an environment variable (<c>"passphrase_env"</c>) of this client; both are read here, before
/// anything is sent. The result is checked against the wire type as strictly as the daemon checks it.
/// Error messages name fields and places, never values: they may be secrets.
/// </summary>
internal static class RequestLoader
{
    /// <summary>The daemon's body limit; a bigger request would only earn a 413.</summary>
    public const int MaxBytes = 1024 * 1024;

    private const string FileSuffix = "_file";
    private const string EnvSuffix = "_env";

    private const UnixFileMode GroupOrOtherRead = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <param name="path">A file, or <c>-</c> for stdin.</param>
    /// <param name="warn">Told about files that others may read.</param>
    public static (OwnerRequest? Request, string? Error) Load(OwnerOperation operation, string path, ClientConsole console, Action<string> warn)
    {
        var fromStdin = path == "-";
        byte[] bytes;
        try
        {
            if (fromStdin)
            {
                bytes = BoundedFile.ReadToEnd(console.Stdin, MaxBytes, "the request on stdin");
            }
            else
            {
                WarnIfOthersCanRead(path, "the request file", warn);
                bytes = BoundedFile.Read(path, MaxBytes, "the request file");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"--request {path}: {ex.Message}");
        }

        var where = fromStdin ? "the request on stdin" : $"--request {path}";
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            return (null, $"{where}: {Place(ex)}");
        }
        if (root is not JsonObject request)
        {
            return (null, $"{where}: must be a JSON object");
        }

        var baseDirectory = fromStdin ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var fields = operation == OwnerOperation.Rotate ? (string[])["old_passphrase", "new_passphrase"] : ["passphrase"];
        if (request["volumes"] is JsonObject volumes)
        {
            foreach (var (name, volume) in volumes)
            {
                if (volume is not JsonObject spec)
                {
                    continue; // the strict read below names it
                }
                foreach (var field in fields)
                {
                    if (Resolve(spec, field, $"volumes.{name}", baseDirectory, console, warn) is { } error)
                    {
                        return (null, $"{where}: {error}");
                    }
                }
            }
        }

        var body = Encoding.UTF8.GetBytes(request.ToJsonString());
        if (body.Length > MaxBytes)
        {
            return (null, $"{where}: with its passphrases read in, the request is larger than the daemon's {MaxBytes} bytes");
        }
        try
        {
            IEnumerable<string>? names = operation == OwnerOperation.Rotate
                ? JsonSerializer.Deserialize(body, CvmJsonContext.Default.PassphraseRequest)?.Volumes?.Keys
                : JsonSerializer.Deserialize(body, CvmJsonContext.Default.BootstrapRequest)?.Volumes?.Keys;
            return (new OwnerRequest(body, [.. (names ?? []).Order(StringComparer.Ordinal)]), null);
        }
        catch (JsonException ex)
        {
            return (null, $"{where}: {Shape(ex)}");
        }
    }

    /// <summary>Replaces <c>FIELD_file</c> or <c>FIELD_env</c> by <c>FIELD</c> with what it names; null, or why not.</summary>
    private static string? Resolve(JsonObject spec, string field, string path, string baseDirectory, ClientConsole console, Action<string> warn)
    {
        var given = new[] { field, field + FileSuffix, field + EnvSuffix }.Where(spec.ContainsKey).ToList();
        if (given.Count > 1)
        {
            return $"{path}: give only one of {string.Join(", ", given)}";
        }
        if (given.Count == 0 || given[0] == field)
        {
            return null; // inline, or missing: the strict read and the daemon say what is wrong
        }
        var reference = given[0];
        if (spec[reference] is not JsonValue value || !value.TryGetValue<string>(out var name) || name.Length == 0)
        {
            return $"{path}.{reference} must be a non-empty string";
        }
        string? passphrase;
        if (reference.EndsWith(FileSuffix, StringComparison.Ordinal))
        {
            var file = Path.Combine(baseDirectory, name);
            try
            {
                WarnIfOthersCanRead(file, $"{path}.{reference}", warn);
                passphrase = Decode(BoundedFile.Read(file, MaxBytes, "the passphrase file"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"{path}.{reference} {file}: {ex.Message}";
            }
            if (passphrase is null)
            {
                return $"{path}.{reference} {file}: not UTF-8 text";
            }
        }
        else
        {
            passphrase = console.GetEnv(name);
            if (string.IsNullOrEmpty(passphrase))
            {
                return $"{path}.{reference}: the environment variable {name} is not set or empty";
            }
        }
        if (passphrase.Length == 0)
        {
            return $"{path}.{reference}: the passphrase is empty";
        }
        spec.Remove(reference);
        spec[field] = passphrase;
        return null;
    }

    /// <summary>
    /// A passphrase file's text, without one final line break: an editor or <c>echo</c> adds one that
    /// nobody means as part of the passphrase. Null when the bytes are not UTF-8.
    /// </summary>
    private static string? Decode(byte[] bytes)
    {
        var length = bytes.Length;
        if (length > 0 && bytes[length - 1] == '\n')
        {
            length--;
            if (length > 0 && bytes[length - 1] == '\r')
            {
                length--;
            }
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static void WarnIfOthersCanRead(string path, string what, Action<string> warn)
    {
        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOtherRead) != 0)
        {
            warn($"{what} {path} is readable by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); it holds secrets: chmod 600 it");
        }
    }

    /// <summary>Where the JSON broke, without quoting it: the text there may be a passphrase.</summary>
    private static string Place(JsonException ex)
    {
        var at = ex.LineNumber is long line && ex.BytePositionInLine is long column ? $" at line {line + 1}, byte {column + 1}" : "";
        return ex.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? $"duplicate key{at}" : $"malformed JSON{at}";
    }

    /// <summary>What does not fit the wire type, by field; unknown and duplicate names are keys, never values.</summary>
    private static string Shape(JsonException ex)
    {
        var field = ex.Path is { Length: > 2 } p ? p[2..] : null;
        if (ex.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            // The path already ends at the unknown field.
            return $"unknown field {field}";
        }
        return field is null ? "does not have the shape of the request" : $"{field} has the wrong JSON type";
    }
}
