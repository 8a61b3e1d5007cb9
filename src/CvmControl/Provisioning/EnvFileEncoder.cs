using System.Text;
using CvmControl.Operations;

namespace CvmControl.Provisioning;

/// <summary>
/// Encodes variables as systemd <c>EnvironmentFile=</c> lines: <c>KEY="value"</c> with only
/// <c>" \ ` $</c> backslash-escaped. Every systemd version (old ones drop any escaping backslash,
/// new ones only before those four) and POSIX sh read such a line back as the exact value.
/// Values have been validated to hold no NUL or line break.
/// </summary>
internal static class EnvFileEncoder
{
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> variables)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in variables)
        {
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
