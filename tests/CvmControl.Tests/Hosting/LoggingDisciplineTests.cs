using System.Text.RegularExpressions;

namespace CvmControl.Tests.Hosting;

/// <summary>Source-level rules that NativeAOT (no reflection over logged types) and the secret policy rely on.</summary>
public sealed partial class LoggingDisciplineTests
{
    private static IEnumerable<string> SourceFiles()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CvmControl.sln")))
        {
            dir = dir.Parent;
        }
        dir.Should().NotBeNull("tests run inside the repository");
        return Directory.EnumerateFiles(Path.Combine(dir!.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\{@\w+")]
    private static partial Regex Destructuring();

    [GeneratedRegex(@"\{(Passphrase|Secret|Value|OldPassphrase|NewPassphrase)\}", RegexOptions.IgnoreCase)]
    private static partial Regex SecretPlaceholder();

    [Fact]
    public void Log_templates_never_use_destructuring()
    {
        var offenders = SourceFiles().Where(f => Destructuring().IsMatch(File.ReadAllText(f))).ToList();
        offenders.Should().BeEmpty("destructuring reflects over the logged type, which trimming and NativeAOT cannot see");
    }

    [Fact]
    public void Serilog_is_never_configured_from_IConfiguration()
    {
        // Serilog.Settings.Configuration binds sinks and enrichers by reflection: not trim-safe, and
        // configuration is not an input of this daemon.
        var offenders = SourceFiles().Where(f => File.ReadAllText(f).Contains("ReadFrom.Configuration", StringComparison.Ordinal)).ToList();
        offenders.Should().BeEmpty();
    }

    [Fact]
    public void Log_templates_have_no_placeholder_for_a_secret()
    {
        var offenders = SourceFiles().Where(f => SecretPlaceholder().IsMatch(File.ReadAllText(f))).ToList();
        offenders.Should().BeEmpty();
    }
}
