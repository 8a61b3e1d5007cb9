using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Luks;

namespace CvmControl.Tests.Volumes.Luks;

/// <summary>
/// The order in which a changed header is written back, and what a power cut between any two writes
/// leaves: with the simulated header area here, and with real cryptsetup on an image file in
/// <see cref="HeaderWritePlanCryptsetupTests"/>.
/// </summary>
public sealed class HeaderWritePlanTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static FakeLuksImage.State Header(params (int Slot, string Passphrase)[] slots)
    {
        var state = new FakeLuksImage.State { Uuid = "0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a34" };
        foreach (var (slot, passphrase) in slots)
        {
            state.Slots[slot] = passphrase;
        }
        return state;
    }

    private static FakeLuksImage.State Changed(FakeLuksImage.State original, Action<FakeLuksImage.State> change)
    {
        var changed = new FakeLuksImage.State();
        changed.CopyFrom(original);
        change(changed);
        changed.Sequence++;
        return changed;
    }

    private static IReadOnlyList<IReadOnlyList<HeaderRange>> Plan(byte[] original, byte[] changed)
    {
        using var a = new MemoryStream(original);
        using var b = new MemoryStream(changed);
        return HeaderWritePlan.Of(a, b, FakeLuksImage.HeaderSize);
    }

    /// <summary>The device after the first <paramref name="phases"/> phases (and, optionally, part of the next range) landed.</summary>
    private byte[] CutAfter(byte[] original, byte[] changed, int phases, int tornBytes = 0)
    {
        var device = _dir.Combine("device-" + Guid.NewGuid().ToString("N"));
        var copy = _dir.Combine("changed-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(device, original);
        File.WriteAllBytes(copy, changed);
        var plan = Plan(original, changed);
        var landed = plan.Take(phases).ToList();
        if (tornBytes > 0)
        {
            var next = plan.Skip(phases).First(p => p.Count > 0)[0];
            landed.Add([next with { Length = tornBytes }]);
        }
        HeaderWritePlan.Apply(device, copy, landed);
        return File.ReadAllBytes(device);
    }

    [Fact]
    public void An_added_keyslot_is_written_key_material_first_then_the_primary_then_the_secondary_copy()
    {
        var original = Header((0, "old"));
        var plan = Plan(FakeLuksImage.Encode(original), FakeLuksImage.Encode(Changed(original, h => h.Slots[1] = "new")));

        plan.Should().HaveCount(3);
        plan[0].Should().Equal([new HeaderRange(FakeLuksImage.KeyslotsStart, HeaderWritePlan.Block)], "slot 1's area shares the block with slot 0's");
        plan[1].Should().OnlyContain(r => r.Offset + r.Length <= FakeLuksImage.HeaderSize).And.NotBeEmpty();
        plan[2].Should().OnlyContain(r => r.Offset >= FakeLuksImage.HeaderSize && r.Offset + r.Length <= 2 * FakeLuksImage.HeaderSize).And.NotBeEmpty();
    }

    [Fact]
    public void Adjacent_changed_blocks_become_one_range_but_never_across_a_phase_boundary()
    {
        // With 16 KiB header copies: blocks 0-3 are the primary copy, 4-7 the secondary, 8 on the keyslot area.
        var original = new byte[12 * HeaderWritePlan.Block];
        var changed = (byte[])original.Clone();
        foreach (var block in new[] { 0, 5, 7, 8, 9, 11 })
        {
            changed[(block * HeaderWritePlan.Block) + 100] = 1;
        }

        var plan = Plan(original, changed);

        plan[0].Should().Equal([new HeaderRange(8 * HeaderWritePlan.Block, 2 * HeaderWritePlan.Block), new HeaderRange(11 * HeaderWritePlan.Block, HeaderWritePlan.Block)]);
        plan[1].Should().Equal([new HeaderRange(0, HeaderWritePlan.Block)]);
        plan[2].Should().Equal([new HeaderRange(5 * HeaderWritePlan.Block, HeaderWritePlan.Block), new HeaderRange(7 * HeaderWritePlan.Block, HeaderWritePlan.Block)]);
    }

    [Fact]
    public void Identical_areas_need_no_write_and_areas_of_different_sizes_are_refused()
    {
        var area = FakeLuksImage.Encode(Header((0, "old")));

        Plan(area, (byte[])area.Clone()).Should().OnlyContain(phase => phase.Count == 0);
        var act = () => Plan(area, area[..^HeaderWritePlan.Block]);
        act.Should().Throw<IOException>();
    }

    [Fact]
    public void A_power_cut_anywhere_in_a_rotation_leaves_the_old_passphrase_working()
    {
        var original = Header((0, "old"));
        var before = FakeLuksImage.Encode(original);
        var after = FakeLuksImage.Encode(Changed(original, h => h.Slots[1] = "new"));

        for (var phases = 0; phases <= 3; phases++)
        {
            FakeLuksImage.Decode(CutAfter(before, after, phases))!.Slots.Should().Contain(0, "old", $"after {phases} phase(s)");
        }
        FakeLuksImage.Decode(CutAfter(before, after, 1, tornBytes: 512))!.Slots.Should().Contain(0, "old", "with a torn primary copy");
        FakeLuksImage.Decode(CutAfter(before, after, 2, tornBytes: 512))!.Slots.Should().Contain(0, "old", "with a torn secondary copy");
        FakeLuksImage.Decode(CutAfter(before, after, 3))!.Slots.Should().Contain(1, "new", "once every phase landed");
    }

    [Fact]
    public void A_power_cut_anywhere_in_a_keyslot_cleanup_leaves_the_kept_slot_working()
    {
        var original = Header((0, "keep"), (1, "stale 1"), (2, "stale 2"));
        var before = FakeLuksImage.Encode(original);
        var after = FakeLuksImage.Encode(Changed(original, h =>
        {
            h.Slots.Remove(1);
            h.Slots.Remove(2);
            h.Preferred = 0;
        }));

        for (var phases = 0; phases <= 3; phases++)
        {
            FakeLuksImage.Decode(CutAfter(before, after, phases))!.Slots.Should().Contain(0, "keep", $"after {phases} phase(s)");
        }
        FakeLuksImage.Decode(CutAfter(before, after, 1, tornBytes: 512))!.Slots.Should().Contain(0, "keep");
        FakeLuksImage.Decode(CutAfter(before, after, 3))!.Slots.Keys.Should().Equal(0);
    }

    public void Dispose() => _dir.Dispose();
}
