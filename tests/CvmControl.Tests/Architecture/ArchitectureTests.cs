using System.Reflection;
using System.Text.RegularExpressions;

namespace CvmControl.Tests.Architecture;

/// <summary>
/// The layout is the architecture: no folder of src/CvmControl may depend on another that depends back
/// on it, and the domain folders never touch ASP.NET (the Web SDK's implicit usings would let them).
/// Both rules are read from the compiled daemon.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly Assembly Daemon = typeof(Program).Assembly;

    /// <summary>Folders that hold the domain: they must build without ASP.NET Core.</summary>
    private static readonly string[] DomainFolders = ["Volumes", "Provisioning", "Tools", "OS"];

    [Fact]
    public void Source_folders_have_no_dependency_cycle()
    {
        var cycles = string.Join("\n---\n", FolderGraph.Of(Daemon).Cycles().Select(c => string.Join("\n", c)));

        cycles.Should().BeEmpty("a folder cycle means a type sits in the wrong layer: move the shared type down to the layer both sides already depend on");
    }

    [Fact]
    public void Domain_folders_use_no_aspnet_core_type()
    {
        var offenders = Daemon.GetTypes()
            .Where(t => FolderGraph.FolderOf(t) is { } folder && DomainFolders.Contains(folder))
            .SelectMany(t => TypeReferences.Of(t)
                .Where(used => used.Assembly.GetName().Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
                .Select(used => $"{t.FullName} uses {used.FullName}"))
            .Distinct()
            .ToList();

        offenders.Should().BeEmpty();
    }

    [Fact]
    public void The_graph_holds_references_made_only_inside_method_bodies()
    {
        // RequestValidator is a static class: the HTTP handlers reach it only through calls in their IL.
        FolderGraph.Of(Daemon).Edges["Http"].Should().ContainKey("Validation");
        TypeReferences.Of(typeof(UsesOnlyInItsBody)).Should().Contain(typeof(System.Net.WebUtility));
    }

    [Fact]
    public void The_cycle_finder_names_every_edge_of_a_cycle_and_ignores_a_chain()
    {
        var graph = new FolderGraph();
        graph.Add("Operations", "State", "Operations.A → State.B");
        graph.Add("State", "Validation", "State.B → Validation.C");
        graph.Add("Validation", "Operations", "Validation.C → Operations.A");
        graph.Add("Http", "Operations", "Http.D → Operations.A");
        graph.Add("Volumes", "Tools", "Volumes.E → Tools.F");

        var cycles = graph.Cycles();

        cycles.Should().ContainSingle().Which.Should().Equal(
            "Operations → State (Operations.A → State.B)",
            "State → Validation (State.B → Validation.C)",
            "Validation → Operations (Validation.C → Operations.A)");
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex FileScopedNamespace();

    [Fact]
    public void Every_source_file_declares_the_namespace_of_its_folder()
    {
        // The graph above knows folders only through namespaces: they must agree.
        var root = Path.Combine(RepositoryRoot(), "src", "CvmControl");
        var offenders = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(root, f), Match: FileScopedNamespace().Match(File.ReadAllText(f))))
            .Where(f => f.Match.Success)
            .Select(f => (f.File, Declared: f.Match.Groups[1].Value, Expected: string.Join('.', [FolderGraph.RootNamespace, .. Path.GetDirectoryName(f.File)!.Split('/', StringSplitOptions.RemoveEmptyEntries)])))
            .Where(f => f.Declared != f.Expected)
            .Select(f => $"{f.File}: namespace {f.Declared}, expected {f.Expected}")
            .ToList();

        offenders.Should().BeEmpty();
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CvmControl.sln")))
        {
            dir = dir.Parent;
        }
        dir.Should().NotBeNull("tests run inside the repository");
        return dir!.FullName;
    }

    private static class UsesOnlyInItsBody
    {
        public static string Run() => System.Net.WebUtility.HtmlEncode("<");
    }
}
