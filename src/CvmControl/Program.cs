using CvmControl.Cli;
using CvmControl.Client;
using CvmControl.Hosting;

namespace CvmControl;

#pragma warning disable CA1052 // Not static: WebApplicationFactory<Program> needs a type argument.
public sealed class Program
{
    private Program()
    {
    }

    public static Task<int> Main(string[] args) =>
        CvmControlCommand.InvokeAsync(args, Environment.GetEnvironmentVariable, Console.Out, Console.Error, DaemonHost.RunAsync, console: ClientConsole.System);
}
