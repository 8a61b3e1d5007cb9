namespace CvmControl.Client;

/// <summary>What the owner commands read from and write to, besides their flags: a seam for tests.</summary>
/// <param name="Stdin">Read for <c>--request -</c>.</param>
/// <param name="Terminal">Stdout is a terminal: live lines instead of JSON objects.</param>
/// <param name="Width">The terminal's width; live lines are cut to it so that redrawing them stays in place.</param>
/// <param name="GetEnv">The client's environment, for <c>"passphrase_env"</c>.</param>
/// <param name="Time">Polling intervals and the <c>--timeout</c> deadline.</param>
internal sealed record ClientConsole(Stream Stdin, bool Terminal, int Width, Func<string, string?> GetEnv, TimeProvider Time)
{
    /// <summary>This process's stdin, terminal and environment.</summary>
    public static ClientConsole System() => new(
        Console.OpenStandardInput(),
        !Console.IsOutputRedirected,
        Console.IsOutputRedirected ? 0 : SafeWidth(),
        Environment.GetEnvironmentVariable,
        TimeProvider.System);

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
