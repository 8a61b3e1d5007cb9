using System.Text;
using CvmControl.Validation;

namespace CvmControl.Provisioning;

/// <summary>
/// Encodes variables as systemd <c>EnvironmentFile=</c> lines. A value made only of plainly safe
/// characters is written bare (<c>CVM_USER_ID=alice</c>), which every reader, <c>cut -d=</c> included,
/// takes literally. Anything else is written <c>KEY="value"</c> with only <c>" \ ` $</c>
/// backslash-escaped: every systemd version (old ones drop any escaping backslash, new ones only
/// before those four) and POSIX sh read that back as the exact value. Values have been validated to
/// hold no NUL or line break.
/// </summary>
internal static partial class EnvFileEncoder
{
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_./:@%+,=-]+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Bare();

    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> variables)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in variables)
        {
            if (Bare().IsMatch(value))
            {
                text.Append(key).Append('=').Append(value).Append('\n');
                continue;
            }
            text.Append(key).Append("=\"");
            foreach (var c in value)
            {
                if (c is '"' or '\\' or '`' or '$')
                {
                    text.Append('\\');
                }
                text.Append(c);
            }
            text.Append("\"\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static byte[] Encode(EnvFile file) => Encode(file.Variables);
}
