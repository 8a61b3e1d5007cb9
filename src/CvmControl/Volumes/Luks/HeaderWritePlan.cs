namespace CvmControl.Volumes.Luks;

/// <summary>One region of a header area to write: <see cref="Length"/> bytes at <see cref="Offset"/>.</summary>
internal readonly record struct HeaderRange(long Offset, int Length);

/// <summary>
/// Which blocks of a LUKS2 header area a change touched, and in which order to write them so that a
/// power cut at any moment leaves a header cryptsetup can open with every passphrase the change kept.
/// </summary>
internal static class HeaderWritePlan
{
    public const int Block = 4096;

    /// <summary>
    /// Compares the checked area with the changed one block by block and groups the blocks that differ
    /// into three phases, each to be followed by an fsync:
    /// <list type="number">
    /// <item>the keyslot area, so that a new keyslot's material is on disk before any header copy names it;</item>
    /// <item>the primary header copy;</item>
    /// <item>the secondary header copy.</item>
    /// </list>
    /// A cut can then tear at most one header copy. cryptsetup reads the copy whose checksum holds (the
    /// newer when both do), and every version of either copy lists every keyslot the change kept.
    /// </summary>
    /// <exception cref="IOException">The two areas differ in size.</exception>
    public static IReadOnlyList<IReadOnlyList<HeaderRange>> Of(Stream original, Stream changed, long headerSize)
    {
        if (original.Length != changed.Length)
        {
            throw new IOException($"the changed header area has {changed.Length} bytes, the checked one {original.Length}");
        }
        List<HeaderRange> keyslots = [], primary = [], secondary = [];
        var a = new byte[Block];
        var b = new byte[Block];
        original.Position = 0;
        changed.Position = 0;
        for (long offset = 0; offset < original.Length; offset += Block)
        {
            var length = (int)Math.Min(Block, original.Length - offset);
            original.ReadExactly(a, 0, length);
            changed.ReadExactly(b, 0, length);
            if (a.AsSpan(0, length).SequenceEqual(b.AsSpan(0, length)))
            {
                continue;
            }
            var phase = offset < headerSize ? primary : offset < 2 * headerSize ? secondary : keyslots;
            if (phase.Count > 0 && phase[^1] is var last && last.Offset + last.Length == offset)
            {
                phase[^1] = last with { Length = last.Length + length };
            }
            else
            {
                phase.Add(new HeaderRange(offset, length));
            }
        }
        return [keyslots, primary, secondary];
    }

    /// <summary>Writes the planned ranges of <paramref name="changed"/> to <paramref name="device"/>, phase by phase, with an fsync after each.</summary>
    public static void Apply(string device, string changed, IEnumerable<IReadOnlyList<HeaderRange>> phases)
    {
        using var source = File.OpenRead(changed);
        using var target = new FileStream(device, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        foreach (var phase in phases)
        {
            if (phase.Count == 0)
            {
                continue;
            }
            foreach (var range in phase)
            {
                var bytes = new byte[range.Length];
                source.Position = range.Offset;
                source.ReadExactly(bytes);
                target.Position = range.Offset;
                target.Write(bytes);
            }
            target.Flush(flushToDisk: true);
        }
    }
}
