using System.Globalization;
using System.Text;

namespace CvmControl.Metrics;

/// <summary>
/// Names, escaping and numbers of the Prometheus text format 0.0.4, with OpenTelemetry's mapping of
/// instrument names and units (dots become underscores, the unit becomes a suffix, counters end in
/// <c>_total</c>).
/// </summary>
internal static class PrometheusText
{
    /// <summary>The metric name of an instrument: <c>http.server.request.duration</c> in <c>s</c> → <c>http_server_request_duration_seconds</c>.</summary>
    public static string MetricName(string instrumentName, string? unit, bool counter)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }
        if (counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }
        return name;
    }

    public static string LabelName(string tagName) => Sanitize(tagName, allowColon: false);

    /// <summary>Inside the double quotes of a label value: backslash, double quote and line feed are escaped.</summary>
    public static void AppendLabelValue(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '"': text.Append("\\\""); break;
                case '\n': text.Append("\\n"); break;
                default: text.Append(c); break;
            }
        }
    }

    /// <summary>The text of a HELP line: backslash and line feed are escaped.</summary>
    public static void AppendHelp(StringBuilder text, string help)
    {
        foreach (var c in help)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                default: text.Append(c); break;
            }
        }
    }

    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A tag value as label text; null is the empty string (which Prometheus treats as absent).</summary>
    public static string LabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit))
        {
            return "";
        }
        // UCUM annotations such as {request} name what is counted; they are not units.
        var bare = unit;
        while (bare.IndexOf('{', StringComparison.Ordinal) is var open and >= 0 && bare.IndexOf('}', open) is var close and > 0)
        {
            bare = bare.Remove(open, close - open + 1);
        }
        return bare switch
        {
            "" or "1" => "",
            "s" => "seconds",
            "ms" => "milliseconds",
            "us" => "microseconds",
            "ns" => "nanoseconds",
            "By" => "bytes",
            "KiBy" => "kibibytes",
            "MiBy" => "mebibytes",
            "%" => "percent",
            _ => Sanitize(bare, allowColon: false).Trim('_'),
        };
    }

    /// <summary>Every character outside <c>[a-zA-Z0-9_]</c> (and <c>:</c> in metric names) becomes one underscore; a leading digit gets one in front.</summary>
    private static string Sanitize(string name, bool allowColon)
    {
        var text = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            text.Append('_');
        }
        foreach (var c in name)
        {
            var keep = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            if (keep)
            {
                text.Append(c);
            }
            else if (text.Length == 0 || text[^1] != '_')
            {
                text.Append('_');
            }
        }
        return text.ToString();
    }
}
