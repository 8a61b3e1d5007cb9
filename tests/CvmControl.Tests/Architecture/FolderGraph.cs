using System.Reflection;

namespace CvmControl.Tests.Architecture;

/// <summary>
/// Which source folder uses which, built from the compiled daemon. A folder is a top-level folder of
/// src/CvmControl (<c>Volumes</c> holds <c>Volumes/Luks</c> and <c>Volumes/Devices</c>); the namespace
/// of a type names its folder, which <see cref="ArchitectureTests"/> checks against the source tree.
/// Every edge keeps one example reference, so a failure names the types to move.
/// </summary>
internal sealed class FolderGraph
{
    public const string RootNamespace = "CvmControl";

    private readonly Dictionary<string, Dictionary<string, string>> _edges = new(StringComparer.Ordinal);

    /// <summary>Folders that use another folder: from → (to → one example "FromType → ToType").</summary>
    public IReadOnlyDictionary<string, Dictionary<string, string>> Edges => _edges;

    public static FolderGraph Of(Assembly assembly)
    {
        var graph = new FolderGraph();
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } from)
            {
                continue;
            }
            foreach (var used in TypeReferences.Of(type))
            {
                if (used.Assembly == assembly && FolderOf(used) is { } to && to != from)
                {
                    graph.Add(from, to, $"{Outermost(type).FullName} → {Outermost(used).FullName}");
                }
            }
        }
        return graph;
    }

    public void Add(string from, string to, string example)
    {
        if (!_edges.TryGetValue(from, out var targets))
        {
            _edges[from] = targets = new(StringComparer.Ordinal);
        }
        targets.TryAdd(to, example);
    }

    /// <summary>The top-level folder of a daemon type (<c>(root)</c> for Program), or null for generated code outside the daemon's namespaces.</summary>
    public static string? FolderOf(Type type)
    {
        var ns = Outermost(type).Namespace;
        if (ns == RootNamespace)
        {
            return "(root)";
        }
        return ns is not null && ns.StartsWith(RootNamespace + ".", StringComparison.Ordinal)
            ? ns[(RootNamespace.Length + 1)..].Split('.')[0]
            : null;
    }

    /// <summary>
    /// Every group of folders that reach each other (a strongly connected component of two or more
    /// folders, by Tarjan's algorithm), each as the edges inside it with their examples.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<HashSet<string>>();
        var nodes = _edges.Keys.Concat(_edges.Values.SelectMany(t => t.Keys)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in _edges.GetValueOrDefault(node)?.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], index[next]);
                }
            }
            if (low[node] == index[node])
            {
                var component = new HashSet<string>(StringComparer.Ordinal);
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }

        foreach (var node in nodes.Where(n => !index.ContainsKey(n)))
        {
            Visit(node);
        }
        return [.. components
            .Where(c => c.Count > 1)
            .Select(c => (IReadOnlyList<string>)[.. c.Order(StringComparer.Ordinal).SelectMany(from =>
                _edges[from].Where(e => c.Contains(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{from} → {e.Key} ({e.Value})"))])];
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        return type;
    }
}
