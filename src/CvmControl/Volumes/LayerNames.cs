namespace CvmControl.Volumes;

/// <summary>
/// The names of the two mappings under the dm-crypt mapping of a volume with integrity:
/// <c>&lt;name&gt;@data</c>, a linear window onto the disk past its header area, and
/// <c>&lt;name&gt;@integrity</c>, dm-integrity on that window. Request names never hold '@', so these
/// never clash with another volume's mapping.
/// </summary>
internal static class LayerNames
{
    public const string DataSuffix = "@data";
    public const string IntegritySuffix = "@integrity";

    /// <summary>What the longer suffix adds to a dm name, which the kernel limits to 127 bytes.</summary>
    public const int LongestSuffixLength = 10;

    public static string Data(string dmName) => dmName + DataSuffix;

    public static string Integrity(string dmName) => dmName + IntegritySuffix;
}
