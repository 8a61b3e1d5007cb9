using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CvmControl.Api.V1;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

/// <summary>A parsed body, or the error reply that explains why there is none.</summary>
internal readonly record struct Body<T>(T? Value, JsonHttpResult<ErrorResponse>? Error)
    where T : class;

/// <summary>
/// Reads a request body as JSON with the source-generated context: at most 1 MiB (413 beyond),
/// strict (unknown fields and duplicate keys rejected), and errors that name the offending field.
/// Values are never echoed: they may be secrets.
/// </summary>
internal static class JsonBody
{
    public const int MaxBytes = 1024 * 1024;

    public static async Task<Body<T>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, Func<T>? whenEmpty = null)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return new(null, TooLarge());
        }

        byte[] bytes;
        try
        {
            bytes = await ReadBoundedAsync(request.Body, request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, TooLarge());
        }
        catch (InvalidDataException)
        {
            return new(null, TooLarge());
        }

        if (bytes.Length == 0 || bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return whenEmpty is not null
                ? new(whenEmpty(), null)
                : new(null, ApiErrors.BadRequest("request body is required", "send a JSON object"));
        }

        try
        {
            var value = JsonSerializer.Deserialize(bytes, type);
            return value is null
                ? new(null, ApiErrors.BadRequest("request body must be a JSON object"))
                : new(value, null);
        }
        catch (JsonException ex)
        {
            return new(null, Describe(ex));
        }
    }

    internal static JsonHttpResult<ErrorResponse> Describe(JsonException ex)
    {
        var field = FieldName(ex.Path);
        var where = ex.LineNumber is long line && ex.BytePositionInLine is long column ? $"line {line + 1}, byte {column + 1}" : null;
        var message = ex.Message;

        if (ex.InnerException is JsonException || message.Contains("invalid", StringComparison.OrdinalIgnoreCase) && ex.InnerException is not null)
        {
            return ApiErrors.BadRequest("malformed JSON body", where);
        }
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var full = Qualify(field, QuotedName(message));
            return ApiErrors.BadRequest(full is null ? "unknown field" : $"unknown field {full}");
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            var full = Qualify(field, QuotedName(message));
            return ApiErrors.BadRequest(full is null ? "duplicate field" : $"duplicate field {full}");
        }
        return field is null
            ? ApiErrors.BadRequest("request body must be a JSON object", where)
            : ApiErrors.BadRequest($"{field} has the wrong type", ExpectedType(message));
    }

    /// <summary><c>$.volumes.data.volume_id</c> or <c>$['volumes']['my.vol']</c> → <c>volumes.data.volume_id</c>.</summary>
    internal static string? FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }
        var parts = new List<string>();
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                parts.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    break;
                }
                parts.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0)
                {
                    break;
                }
                parts.Add(path[(i + 1)..end]);
                i = end + 1;
            }
            else
            {
                break;
            }
        }
        return parts.Count == 0 ? null : string.Join('.', parts);
    }

    /// <summary>The path may or may not already end with the offending name.</summary>
    private static string? Qualify(string? field, string? name) =>
        name is null ? field
        : field is null ? name
        : field == name || field.EndsWith("." + name, StringComparison.Ordinal) ? field
        : $"{field}.{name}";

    private static string? QuotedName(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? message[(start + 1)..end] : null;
    }

    private static string? ExpectedType(string message) =>
        message.Contains("System.String", StringComparison.Ordinal) && !message.Contains("Dictionary", StringComparison.Ordinal) ? "expected a string"
        : message.Contains("System.Boolean", StringComparison.Ordinal) ? "expected true or false"
        : "expected an object";

    private static JsonHttpResult<ErrorResponse> TooLarge() =>
        ApiErrors.Of(StatusCodes.Status413PayloadTooLarge, "request body too large", $"the limit is {MaxBytes} bytes");

    private static async Task<byte[]> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                throw new InvalidDataException("body over limit");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
