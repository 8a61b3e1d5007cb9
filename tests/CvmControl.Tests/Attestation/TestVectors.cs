namespace CvmControl.Tests.Attestation;

/// <summary>The real hardware vectors in TestData (see TestData/INDEX.md for provenance).</summary>
internal static class TestVectors
{
    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Attestation", "TestData");

    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    /// <summary>A time at which every vector's certificates are valid (the VLEK expired 2025-12-10).</summary>
    public static readonly DateTimeOffset WhenAllValid = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
}
