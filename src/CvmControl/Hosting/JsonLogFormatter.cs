using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Serilog.Parsing;
using Serilog.Events;
using Serilog.Formatting;

namespace CvmControl.Hosting;

/// <summary>
/// One JSON object per line: <c>timestamp</c>, <c>level</c>, <c>message</c> (rendered), <c>properties</c>
/// and, when present, <c>exception</c>. Written with Utf8JsonWriter, so it needs no reflection.
/// </summary>
internal sealed class JsonLogFormatter : ITextFormatter
{
    /// <summary>Above this, a thread's scratch buffers are dropped after use rather than kept.</summary>
    private const int KeepBytes = 16 * 1024;

    // Log lines are never HTML: keep quotes and '+' readable.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // One request log line per request: reusing the buffers per thread keeps a busy daemon's
    // allocation (and so its RSS before the next gen0 collection) close to bare Kestrel's.
    [ThreadStatic]
    private static Scratch? t_scratch;

    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        FormatUtf8(logEvent, output, static (line, writer) =>
        {
            var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(line.Length));
            try
            {
                writer.Write(chars, 0, Encoding.UTF8.GetChars(line, chars));
            }
            finally
            {
                ArrayPool<char>.Shared.Return(chars);
            }
        });
    }

    /// <summary>
    /// Formats one line, its <c>\n</c> included, as UTF-8 and hands it to <paramref name="write"/>. The
    /// span is only valid during that call. Nothing is allocated per line once a thread's buffers exist.
    /// </summary>
    public void FormatUtf8<TState>(LogEvent logEvent, TState state, ReadOnlySpanAction<byte, TState> write)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(write);
        var scratch = t_scratch ?? new Scratch();
        t_scratch = null; // Not re-entrant: a sink that logs while formatting gets fresh buffers.
        scratch.Bytes.ResetWrittenCount();
        scratch.Message.Clear();
        var json = scratch.Json;
        json.Reset(scratch.Bytes);

        json.WriteStartObject();
        Span<char> timestamp = stackalloc char[32];
        logEvent.Timestamp.UtcDateTime.TryFormat(timestamp, out var length, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        json.WriteString("timestamp", timestamp[..length]);
        json.WriteString("level", LevelName(logEvent.Level));
        RenderTo(logEvent, scratch.Message, scratch.MessageWriter);
        json.WriteString("message", scratch.MessageChars());
        json.WriteStartObject("properties");
        foreach (var (name, value) in logEvent.Properties)
        {
            json.WritePropertyName(name);
            WriteValue(json, value);
        }
        json.WriteEndObject();
        if (logEvent.Exception is { } exception)
        {
            json.WriteString("exception", exception.ToString());
        }
        json.WriteEndObject();
        json.Flush();
        scratch.Bytes.GetSpan(1)[0] = (byte)'\n';
        scratch.Bytes.Advance(1);

        try
        {
            write(scratch.Bytes.WrittenSpan, state);
        }
        finally
        {
            if (scratch.Bytes.Capacity <= KeepBytes && scratch.CharCapacity <= KeepBytes)
            {
                t_scratch = scratch;
            }
        }
    }

    /// <summary>Renders the message with string properties as plain text (Serilog would quote them).</summary>
    private static void RenderTo(LogEvent logEvent, StringBuilder text, StringWriter writer)
    {
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property
                && logEvent.Properties.TryGetValue(property.PropertyName, out var value)
                && value is ScalarValue { Value: string raw })
            {
                text.Append(raw);
            }
            else
            {
                token.Render(logEvent.Properties, writer, CultureInfo.InvariantCulture);
            }
        }
        writer.Flush();
    }

    private sealed class Scratch
    {
        private char[] _chars = new char[1024];

        public Scratch()
        {
            Json = new Utf8JsonWriter(Bytes, WriterOptions);
            MessageWriter = new StringWriter(Message, CultureInfo.InvariantCulture);
        }

        public ArrayBufferWriter<byte> Bytes { get; } = new(1024);

        public Utf8JsonWriter Json { get; }

        public StringBuilder Message { get; } = new(256);

        public StringWriter MessageWriter { get; }

        public int CharCapacity => _chars.Length;

        public ReadOnlySpan<char> MessageChars()
        {
            Grow(Message.Length);
            Message.CopyTo(0, _chars, Message.Length);
            return _chars.AsSpan(0, Message.Length);
        }

        private void Grow(int needed)
        {
            if (_chars.Length < needed)
            {
                _chars = new char[Math.Max(needed, _chars.Length * 2)];
            }
        }
    }

    public static string LevelName(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "trace",
        LogEventLevel.Debug => "debug",
        LogEventLevel.Information => "info",
        LogEventLevel.Warning => "warn",
        LogEventLevel.Error => "error",
        _ => "fatal",
    };

    private static void WriteValue(Utf8JsonWriter json, LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: null }:
                json.WriteNullValue();
                break;
            case ScalarValue { Value: string s }:
                json.WriteStringValue(s);
                break;
            case ScalarValue { Value: bool b }:
                json.WriteBooleanValue(b);
                break;
            case ScalarValue { Value: int or long or short or byte or uint or ushort or sbyte } scalar:
                json.WriteNumberValue(Convert.ToInt64(scalar.Value, CultureInfo.InvariantCulture));
                break;
            case ScalarValue { Value: ulong u }:
                json.WriteNumberValue(u);
                break;
            case ScalarValue { Value: double d } when double.IsFinite(d):
                json.WriteNumberValue(d);
                break;
            case ScalarValue { Value: float f } when float.IsFinite(f):
                json.WriteNumberValue(f);
                break;
            case ScalarValue { Value: decimal m }:
                json.WriteNumberValue(m);
                break;
            case ScalarValue scalar:
                json.WriteStringValue(Convert.ToString(scalar.Value, CultureInfo.InvariantCulture));
                break;
            case SequenceValue sequence:
                json.WriteStartArray();
                foreach (var element in sequence.Elements)
                {
                    WriteValue(json, element);
                }
                json.WriteEndArray();
                break;
            case StructureValue structure:
                json.WriteStartObject();
                foreach (var property in structure.Properties)
                {
                    json.WritePropertyName(property.Name);
                    WriteValue(json, property.Value);
                }
                json.WriteEndObject();
                break;
            case DictionaryValue dictionary:
                json.WriteStartObject();
                foreach (var (key, element) in dictionary.Elements)
                {
                    json.WritePropertyName(Convert.ToString(key.Value, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(json, element);
                }
                json.WriteEndObject();
                break;
            default:
                json.WriteStringValue(value.ToString());
                break;
        }
    }
}
