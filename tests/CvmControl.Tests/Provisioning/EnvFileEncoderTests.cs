using System.Text;
using CvmControl.Provisioning;

namespace CvmControl.Tests.Provisioning;

public sealed class EnvFileEncoderTests
{
    private static string Encode(params (string Key, string Value)[] vars) =>
        Encoding.UTF8.GetString(EnvFileEncoder.Encode(vars.Select(v => new KeyValuePair<string, string>(v.Key, v.Value))));

    [Theory]
    [InlineData("plain", "A=plain\n")]
    [InlineData("vol-0abc/x.y:z@h%1+2,3=4", "A=vol-0abc/x.y:z@h%1+2,3=4\n")]
    [InlineData("", "A=\"\"\n")]
    [InlineData("  spaced  ", "A=\"  spaced  \"\n")]
    [InlineData("say \"hi\"", "A=\"say \\\"hi\\\"\"\n")]
    [InlineData(@"C:\path\n", "A=\"C:\\\\path\\\\n\"\n")]
    [InlineData("$HOME and ${X}", "A=\"\\$HOME and \\${X}\"\n")]
    [InlineData("`id`", "A=\"\\`id\\`\"\n")]
    [InlineData("it's # not a comment", "A=\"it's # not a comment\"\n")]
    [InlineData("tab\there", "A=\"tab\there\"\n")]
    [InlineData("ünïcødé ✓", "A=\"ünïcødé ✓\"\n")]
    public void Encodes_a_value_as_a_double_quoted_line(string value, string expected)
    {
        Encode(("A", value)).Should().Be(expected);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("  leading and trailing  ")]
    [InlineData("quotes \" ' and \\ backslashes \\\\ \\n")]
    [InlineData("$VAR ${VAR} $(cmd) `cmd`")]
    [InlineData("# hash ; semicolon = equals")]
    [InlineData("\\")]
    [InlineData("ends with backslash\\")]
    public void Systemd_reads_back_exactly_the_value(string value)
    {
        var parsed = SystemdEnvFile.Parse(Encode(("KEY", value)));
        parsed.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("KEY", value));
    }

    [Fact]
    public void Writes_one_line_per_variable_in_the_given_order()
    {
        Encode(("B", "1"), ("A", "x y")).Should().Be("B=1\nA=\"x y\"\n");
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("  leading and trailing  ")]
    [InlineData("quotes \" ' and \\ backslashes \\\\ \\n")]
    [InlineData("$VAR ${VAR} $(id) `id`")]
    [InlineData("# hash ; semicolon = equals & | < >")]
    [InlineData("ends with backslash\\")]
    public void Posix_sh_sourcing_the_file_gets_exactly_the_value(string value)
    {
        using var dir = new TempDir();
        var file = dir.Combine("f.env");
        File.WriteAllBytes(file, EnvFileEncoder.Encode([new KeyValuePair<string, string>("KEY", value)]));
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(". \"$1\" && printf %s \"$KEY\"");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(file);
        using var sh = System.Diagnostics.Process.Start(start)!;
        var output = sh.StandardOutput.ReadToEnd();
        sh.WaitForExit();

        sh.ExitCode.Should().Be(0);
        output.Should().Be(value);
    }

    /// <summary>
    /// A model of systemd's EnvironmentFile= reader for the subset we emit (KEY="..." lines), from
    /// systemd's documented rules: inside double quotes a backslash before one of <c>" \ ` $</c> yields
    /// that character; newer versions keep the backslash before anything else (we never emit that).
    /// </summary>
    private static class SystemdEnvFile
    {
        public static List<KeyValuePair<string, string>> Parse(string text)
        {
            var result = new List<KeyValuePair<string, string>>();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                var key = line[..eq];
                var rest = line[(eq + 1)..];
                if (rest.Length == 0 || rest[0] != '"')
                {
                    // Bare values are only ever written from the safe alphabet: taken literally.
                    rest.Should().MatchRegex("^[A-Za-z0-9_./:@%+,=-]+$");
                    result.Add(new(key, rest));
                    continue;
                }
                var value = new StringBuilder();
                var i = 1;
                for (; i < rest.Length && rest[i] != '"'; i++)
                {
                    if (rest[i] == '\\')
                    {
                        i++;
                        if ("\"\\`$".Contains(rest[i], StringComparison.Ordinal))
                        {
                            value.Append(rest[i]);
                        }
                        else
                        {
                            value.Append('\\').Append(rest[i]);
                        }
                    }
                    else
                    {
                        value.Append(rest[i]);
                    }
                }
                i.Should().Be(rest.Length - 1, "nothing may follow the closing quote");
                result.Add(new(key, value.ToString()));
            }
            return result;
        }
    }
}
