using System.Diagnostics;

namespace CvmControl.Tests.Metrics;

/// <summary>
/// tests/prometheus/check-exposition.py: the Prometheus client library's own text parser (Debian's
/// python3-prometheus-client, which tests/vm/install-deps.sh installs), plus the checks the parser
/// leaves to its reader.
/// </summary>
internal static class ReferenceParser
{
    public const string Python = "/usr/bin/python3";

    public static async Task<(int ExitCode, string Output, string Errors)> CheckAsync(string exposition, params string[] requirements)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Metrics", "check-exposition.py"));
        start.ArgumentList.Add("-");
        foreach (var requirement in requirements)
        {
            start.ArgumentList.Add(requirement);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Fails the test with the parser's own words unless the exposition passes.</summary>
    public static async Task<string> ShouldAcceptAsync(string exposition, params string[] requirements)
    {
        var (exit, output, errors) = await CheckAsync(exposition, requirements);
        exit.Should().Be(0, "the reference parser said: {0}\n--- exposition ---\n{1}", errors, exposition);
        return output;
    }
}
