using System.Text.Json.Nodes;
using CvmControl.Volumes.Luks;

namespace CvmControl.Tests.Volumes.Luks;

public sealed class LuksHeaderPolicyTests
{
    private const string HeaderUuid = "0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a34";

    private static readonly byte[] Luks2 = BinaryHeader();

    /// <summary>A LUKS2 binary header as cryptsetup lays it out: magic, version 2, hdr_size (big-endian) at 8, the UUID text at 0xA8.</summary>
    private static byte[] BinaryHeader(ulong headerSize = 16384, string uuid = HeaderUuid, ushort version = 2)
    {
        var header = new byte[4096];
        new byte[] { (byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xBA, 0xBE }.CopyTo(header, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), version);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(8), headerSize);
        System.Text.Encoding.ASCII.GetBytes(uuid).CopyTo(header.AsSpan(0xA8));
        return header;
    }

    private static string Real() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Volumes", "Luks", "TestData", "luks2-metadata.json"));

    /// <summary>The real metadata with one edit, the way a host would forge it.</summary>
    private static string Forged(Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(Real())!.AsObject();
        edit(root);
        return root.ToJsonString();
    }

    private static string Rejection(string json, byte[]? binary = null)
    {
        var act = () => LuksHeaderPolicy.Check(binary ?? Luks2, json);
        return act.Should().Throw<HeaderRejected>().Which.Message;
    }

    [Fact]
    public void Accepts_the_header_cryptsetup_writes_for_this_daemon()
    {
        var verdict = LuksHeaderPolicy.Check(Luks2, Real());

        verdict.Keyslots.Should().Equal(0);
        verdict.HasMarker.Should().BeTrue();
        verdict.Uuid.Should().Be(HeaderUuid);
        verdict.HeaderSize.Should().Be(16384);
        verdict.KdfMemoryBytes.Should().Be(32 * 1024 * 1024, "its one argon2id slot has memory 32768 KiB");
    }

    [Fact]
    public void The_kdf_memory_an_unlock_takes_is_the_largest_argon2_memory_among_the_keyslots()
    {
        var json = Forged(r =>
        {
            var costly = r["keyslots"]!["0"]!.DeepClone();
            costly["kdf"]!["memory"] = 1048576;
            r["keyslots"]!["2"] = costly;
            var pbkdf2 = r["keyslots"]!["0"]!.DeepClone();
            pbkdf2["kdf"] = JsonNode.Parse("""{"type":"pbkdf2","hash":"sha256","iterations":100000,"salt":"AA=="}""");
            r["keyslots"]!["5"] = pbkdf2;
            r["digests"]!["0"]!["keyslots"] = JsonNode.Parse("[\"0\",\"2\",\"5\"]");
        });

        LuksHeaderPolicy.Check(Luks2, json).KdfMemoryBytes.Should().Be(1024L * 1024 * 1024);
    }

    [Fact]
    public void Pbkdf2_keyslots_alone_take_no_kdf_memory()
    {
        LuksHeaderPolicy.Check(Luks2, Forged(r => r["keyslots"]!["0"]!["kdf"] = JsonNode.Parse("""{"type":"pbkdf2","hash":"sha256","iterations":100000,"salt":"AA=="}""")))
            .KdfMemoryBytes.Should().Be(0);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a3")]
    [InlineData("0f3c9a52+77d4-4b1e-9a0c-5e2b8d6f1a34")]
    public void Rejects_a_binary_header_whose_uuid_is_not_a_uuid(string uuid)
    {
        Rejection(Real(), BinaryHeader(uuid: uuid)).Should().StartWith("header: uuid \"").And.EndWith("\" is not a UUID");
    }

    [Fact]
    public void Rejects_text_hidden_after_the_uuid()
    {
        var binary = BinaryHeader();
        binary[0xA8 + 37] = (byte)'x';

        Rejection(Real(), binary).Should().Be($"header: uuid \"{HeaderUuid}\" is not a UUID");
    }

    [Theory]
    [InlineData(8192UL)]
    [InlineData(24576UL)]
    [InlineData(8UL * 1024 * 1024)]
    public void Rejects_a_header_size_luks2_does_not_have(ulong size)
    {
        Rejection(Real(), BinaryHeader(headerSize: size)).Should().Be($"header: hdr_size {size} is not a LUKS2 header size");
    }

    [Fact]
    public void Rejects_a_json_area_size_that_disagrees_with_the_binary_header()
    {
        Rejection(Real(), BinaryHeader(headerSize: 32768)).Should().Be("config.json_size 12288 does not match the binary header's hdr_size 32768");
    }

    [Fact]
    public void Rejects_a_truncated_binary_header()
    {
        Rejection(Real(), Luks2[..512]).Should().Be("header: 512 bytes, a LUKS2 binary header has 4096");
    }

    [Theory]
    [InlineData("0", "258048", "keyslots.0.area.offset is \"0\"; allowed: a decimal string 32768..16777215")]
    [InlineData("16777216", "4096", "keyslots.0.area.offset is \"16777216\"; allowed: a decimal string 32768..16777215")]
    [InlineData("16773120", "8192", "keyslots.0.area.size is \"8192\"; allowed: a decimal string 1..4096")]
    public void Rejects_a_keyslot_area_outside_the_keyslot_area(string offset, string size, string message)
    {
        Rejection(Forged(r =>
        {
            r["keyslots"]!["0"]!["area"]!["offset"] = offset;
            r["keyslots"]!["0"]!["area"]!["size"] = size;
        })).Should().Be(message);
    }

    [Fact]
    public void Rejects_data_that_starts_inside_the_keyslot_area_by_a_single_block()
    {
        // Both header copies (2 x 16 KiB) plus the keyslot area end at exactly 16 MiB.
        Rejection(Forged(r => r["segments"]!["0"]!["offset"] = "16773120")).Should().Be("segments.0.offset 16773120 overlaps the header and keyslot area");
        LuksHeaderPolicy.Check(Luks2, Forged(r => r["segments"]!["0"]!["offset"] = "16777216")).Keyslots.Should().Equal(0);
    }

    [Fact]
    public void Reports_data_right_after_the_header_area_as_on_the_same_device()
    {
        var verdict = LuksHeaderPolicy.Check(Luks2, Forged(r => r["segments"]!["0"]!["offset"] = "16777216"));

        verdict.DataOffset.Should().Be(16777216);
        verdict.DetachedData.Should().BeFalse();
    }

    [Fact]
    public void Accepts_data_offset_zero_only_as_data_on_another_device()
    {
        // A header made for integrity keeps its data on the dm-integrity device; the pipeline refuses
        // it for a volume without integrity, so offset 0 is never read as data overlapping the header.
        var verdict = LuksHeaderPolicy.Check(Luks2, Forged(r => r["segments"]!["0"]!["offset"] = "0"));

        verdict.DataOffset.Should().Be(0);
        verdict.DetachedData.Should().BeTrue();
    }

    [Fact]
    public void Rejects_a_cipher_null_data_segment()
    {
        Rejection(Forged(r => r["segments"]!["0"]!["encryption"] = "cipher_null-ecb"))
            .Should().Be("segments.0.encryption is \"cipher_null-ecb\"; only aes-xts-plain64 is allowed");
    }

    [Fact]
    public void Rejects_a_keyslot_whose_area_uses_a_null_cipher()
    {
        Rejection(Forged(r => r["keyslots"]!["0"]!["area"]!["encryption"] = "cipher_null-ecb"))
            .Should().Be("keyslots.0.area.encryption is \"cipher_null-ecb\"; only aes-xts-plain64 is allowed");
    }

    [Theory]
    [InlineData("segments.0.sector_size", "1024", "segments.0.sector_size is 1024; only 512 or 4096 are allowed")]
    [InlineData("keyslots.0.key_size", "32", "keyslots.0.key_size is 32; allowed: 64..64")]
    [InlineData("keyslots.0.kdf.memory", "8388608", "keyslots.0.kdf.memory is 8388608; allowed: 32..4194304")]
    [InlineData("keyslots.0.kdf.time", "0", "keyslots.0.kdf.time is 0; allowed: 1..1000")]
    [InlineData("keyslots.0.af.stripes", "1", "keyslots.0.af.stripes is 1; allowed: 4000..4000")]
    [InlineData("digests.0.iterations", "1", "digests.0.iterations is 1; allowed: 1000..100000000")]
    [InlineData("segments.0.offset", "\"512\"", "segments.0.offset 512 overlaps the header and keyslot area")]
    [InlineData("segments.0.type", "\"linear\"", "segments.0.type is \"linear\"; only crypt is allowed")]
    [InlineData("keyslots.0.af.hash", "\"sha1\"", "keyslots.0.af.hash is \"sha1\"; allowed: sha256, sha384, sha512")]
    [InlineData("digests.0.hash", "\"md5\"", "digests.0.hash is \"md5\"; allowed: sha256, sha384, sha512")]
    public void Rejects_weak_or_absurd_values_naming_the_field(string path, string json, string message)
    {
        Rejection(Forged(r =>
        {
            var parts = path.Split('.');
            JsonNode node = r;
            foreach (var part in parts[..^1])
            {
                node = node[part]!;
            }
            node[parts[^1]] = JsonNode.Parse(json);
        })).Should().Be(message);
    }

    [Fact]
    public void Rejects_a_pbkdf2_keyslot_with_sha1()
    {
        Rejection(Forged(r => r["keyslots"]!["0"]!["kdf"] = JsonNode.Parse("""{"type":"pbkdf2","hash":"sha1","iterations":100000,"salt":"AA=="}""")))
            .Should().Be("keyslots.0.kdf.hash is \"sha1\"; allowed: sha256, sha384, sha512");
    }

    [Fact]
    public void Accepts_a_pbkdf2_sha256_keyslot()
    {
        LuksHeaderPolicy.Check(Luks2, Forged(r => r["keyslots"]!["0"]!["kdf"] = JsonNode.Parse("""{"type":"pbkdf2","hash":"sha256","iterations":100000,"salt":"AA=="}""")))
            .Keyslots.Should().Equal(0);
    }

    [Fact]
    public void Rejects_an_unknown_kdf()
    {
        Rejection(Forged(r => r["keyslots"]!["0"]!["kdf"]!["type"] = "argon2i"))
            .Should().Be("keyslots.0.kdf.type is \"argon2i\"; only argon2id or pbkdf2 (sha256 or stronger) are allowed");
    }

    [Fact]
    public void Rejects_tokens_it_did_not_write()
    {
        Rejection(Forged(r => r["tokens"]!["1"] = JsonNode.Parse("""{"type":"systemd-tpm2","keyslots":["0"]}""")))
            .Should().Be("tokens.1.type is \"systemd-tpm2\"; only cvm-control is allowed");
    }

    [Fact]
    public void Rejects_unknown_requirements_and_activation_flags()
    {
        Rejection(Forged(r => r["config"]!["requirements"] = JsonNode.Parse("""{"mandatory":["online-reencrypt-v2"]}""")))
            .Should().Be("config.requirements.mandatory: unknown requirements flags are not allowed");
        Rejection(Forged(r => r["config"]!["flags"] = JsonNode.Parse("""["allow-discards"]""")))
            .Should().Be("config.flags: no persistent activation flags are allowed");
    }

    [Fact]
    public void Rejects_unknown_fields_such_as_an_integrity_section()
    {
        Rejection(Forged(r => r["segments"]!["0"]!["integrity"] = JsonNode.Parse("""{"type":"hmac(sha256)"}""")))
            .Should().Be("segments.0.integrity: unknown field");
    }

    [Fact]
    public void Rejects_a_second_segment()
    {
        Rejection(Forged(r => r["segments"]!["1"] = r["segments"]!["0"]!.DeepClone()))
            .Should().Be("segments: exactly one segment \"0\" is allowed, found 2");
    }

    [Fact]
    public void Rejects_a_keyslot_not_bound_to_the_segment_digest()
    {
        Rejection(Forged(r => r["digests"]!["0"]!["keyslots"] = new JsonArray()))
            .Should().Be("keyslots.0: not bound to the segment's digest");
    }

    [Fact]
    public void Rejects_duplicate_keys_that_readers_would_resolve_differently()
    {
        var json = Real().Replace("\"encryption\":\"aes-xts-plain64\",\n      \"sector_size\"", "\"encryption\":\"aes-xts-plain64\",\"encryption\":\"cipher_null-ecb\",\n      \"sector_size\"", StringComparison.Ordinal);
        json.Should().Contain("cipher_null", "the test must actually add a duplicate");
        Rejection(json).Should().Be("segments.0.encryption: duplicate key");
    }

    [Fact]
    public void Rejects_luks1_and_non_luks_headers()
    {
        Rejection(Real(), BinaryHeader(version: 1)).Should().Be("header: version is 1; only LUKS2 is allowed");
        Rejection(Real(), new byte[8]).Should().Be("header: no LUKS magic");
    }

    [Fact]
    public void Rejects_metadata_that_is_not_json()
    {
        Rejection("{\"keyslots\":").Should().StartWith("metadata: not valid JSON");
    }

    [Fact]
    public void A_header_without_the_marker_is_accepted_but_reported_as_unmarked()
    {
        LuksHeaderPolicy.Check(Luks2, Forged(r => r["tokens"] = new JsonObject())).HasMarker.Should().BeFalse();
    }
    /// <summary>Sets the JSON value at a dotted path of the real metadata (parents must exist).</summary>
    private static string With(string path, string json) => Forged(r =>
    {
        var parts = path.Split('.');
        JsonNode node = r;
        foreach (var part in parts[..^1])
        {
            node = node[part]!;
        }
        node[parts[^1]] = json is null ? null : JsonNode.Parse(json);
    });

    /// <summary>Every rule of the allow-list, each broken once the way a forging host would, and the field the rejection names.</summary>
    [Theory]
    [InlineData("keyslots.0.type", "\"luks1\"", "keyslots.0.type is \"luks1\"; only luks2 is allowed")]
    [InlineData("keyslots.0.priority", "3", "keyslots.0.priority is 3; allowed: 0..2")]
    [InlineData("keyslots.0.af.type", "\"luks2\"", "keyslots.0.af.type is \"luks2\"; only luks1 is allowed")]
    [InlineData("keyslots.0.area.type", "\"datashift\"", "keyslots.0.area.type is \"datashift\"; only raw is allowed")]
    [InlineData("keyslots.0.area.key_size", "32", "keyslots.0.area.key_size is 32; allowed: 64..64")]
    [InlineData("keyslots.0.kdf.cpus", "65", "keyslots.0.kdf.cpus is 65; allowed: 1..64")]
    [InlineData("keyslots.0.kdf.salt", "5", "keyslots.0.kdf.salt must be a string")]
    [InlineData("keyslots.0.kdf", "{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":999,\"salt\":\"AA==\"}", "keyslots.0.kdf.iterations is 999; allowed: 1000..100000000")]
    [InlineData("keyslots.0.kdf", "{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":1000,\"salt\":[]}", "keyslots.0.kdf.salt must be a string")]
    [InlineData("keyslots.0.kdf", "{\"time\":4}", "keyslots.0.kdf.type is missing; only argon2id or pbkdf2 (sha256 or stronger) are allowed")]
    [InlineData("keyslots.0.kdf", "{\"type\":\"argon2id\",\"time\":4,\"memory\":32768,\"cpus\":2}", "keyslots.0.kdf.salt: missing")]
    [InlineData("keyslots.0", "5", "keyslots.0: must be an object")]
    [InlineData("tokens.0.keyslots", "[\"0\"]", "tokens.0.keyslots: the marker token is bound to no keyslot")]
    [InlineData("tokens.0.keyslots", "\"0\"", "tokens.0.keyslots: the marker token is bound to no keyslot")]
    [InlineData("segments.0.iv_tweak", "\"1\"", "segments.0.iv_tweak is \"1\"; allowed: a decimal string 0..0")]
    [InlineData("segments.0.size", "\"big\"", "segments.0.size must be \"dynamic\" or a byte count")]
    [InlineData("segments.0.size", "\"-1\"", "segments.0.size must be \"dynamic\" or a byte count")]
    [InlineData("segments.0.size", "1048576", "segments.0.size must be \"dynamic\" or a byte count")]
    [InlineData("segments.0.flags", "[\"backup-previous\"]", "segments.0.flags: no segment flags (e.g. reencryption) are allowed")]
    [InlineData("segments.0.flags", "\"none\"", "segments.0.flags: no segment flags (e.g. reencryption) are allowed")]
    [InlineData("segments.0.encryption", "5", "segments.0.encryption is 5; only aes-xts-plain64 is allowed")]
    [InlineData("digests.0.type", "\"argon2\"", "digests.0.type is \"argon2\"; only pbkdf2 is allowed")]
    [InlineData("digests.0.salt", "1", "digests.0.salt must be a string")]
    [InlineData("digests.0.digest", "{}", "digests.0.digest must be a string")]
    [InlineData("digests.0.segments", "[\"1\"]", "digests.0.segments must be [\"0\"]")]
    [InlineData("digests.0.segments", "[\"0\",\"0\"]", "digests.0.segments must be [\"0\"]")]
    [InlineData("digests.0.keyslots", "\"0\"", "digests.0.keyslots must be an array of strings")]
    [InlineData("digests.0.keyslots", "[0]", "digests.0.keyslots must be an array of strings")]
    [InlineData("digests.0.keyslots", "[\"01\"]", "digests.0.keyslots: \"01\" is not a valid index")]
    [InlineData("config.flags", "\"allow-discards\"", "config.flags: no persistent activation flags are allowed")]
    [InlineData("config.requirements", "{\"mandatory\":\"x\"}", "config.requirements.mandatory: unknown requirements flags are not allowed")]
    [InlineData("config.requirements", "{\"optional\":[]}", "config.requirements.optional: unknown field")]
    public void Every_rule_names_the_field_that_breaks_it(string path, string json, string message)
    {
        Rejection(With(path, json)).Should().Be(message);
    }

    [Theory]
    [InlineData("segments.0.size", "\"1048576\"")]
    [InlineData("segments.0.flags", "[]")]
    [InlineData("config.flags", "[]")]
    [InlineData("config.requirements", "{}")]
    [InlineData("config.requirements", "{\"mandatory\":[]}")]
    [InlineData("keyslots.0.priority", "2")]
    [InlineData("keyslots.0.priority", "0")]
    public void Empty_lists_a_fixed_size_and_priorities_0_to_2_are_accepted(string path, string json)
    {
        LuksHeaderPolicy.Check(Luks2, With(path, json)).Keyslots.Should().Equal(0);
    }

    [Theory]
    [InlineData("keyslots", "32")]
    [InlineData("keyslots", "01")]
    [InlineData("keyslots", "-1")]
    [InlineData("tokens", "1x")]
    [InlineData("digests", "32")]
    public void An_object_key_that_is_not_an_index_0_to_31_is_rejected(string section, string key)
    {
        var json = Forged(r =>
        {
            var members = r[section]!.AsObject();
            var first = members.First();
            members.Remove(first.Key);
            members[key] = first.Value;
        });

        Rejection(json).Should().Be($"{section}.{key}: \"{key}\" is not a valid index");
    }

    [Fact]
    public void Keyslots_31_is_the_highest_index_and_the_verdict_lists_slots_in_ascending_order()
    {
        var json = Forged(r =>
        {
            var slot = r["keyslots"]!["0"]!;
            r["keyslots"]!.AsObject().Remove("0");
            r["keyslots"]!["31"] = slot.DeepClone();
            r["keyslots"]!["4"] = slot;
            r["digests"]!["0"]!["keyslots"] = JsonNode.Parse("[\"31\",\"4\"]");
        });

        LuksHeaderPolicy.Check(Luks2, json).Keyslots.Should().Equal(4, 31);
    }

    [Fact]
    public void Metadata_nested_deeper_than_any_honest_header_is_refused_before_it_is_walked()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 20);

        Rejection(With("tokens.0.version", deep)).Should().StartWith("metadata: not valid JSON");
    }

    [Fact]
    public void A_long_forged_value_is_shown_cut_at_64_characters()
    {
        var exactly64 = new string('x', 64);
        var longer = new string('y', 65);

        Rejection(With("segments.0.encryption", $"\"{exactly64}\"")).Should().Be($"segments.0.encryption is \"{exactly64}\"; only aes-xts-plain64 is allowed");
        Rejection(With("segments.0.encryption", $"\"{longer}\"")).Should().Be($"segments.0.encryption is \"{longer[..64]}…\"; only aes-xts-plain64 is allowed");
    }

    [Fact]
    public void The_version_is_read_big_endian_from_both_bytes()
    {
        Rejection(Real(), BinaryHeader(version: 0x0102)).Should().Be("header: version is 258; only LUKS2 is allowed");
    }

    [Fact]
    public void Eight_bytes_of_magic_and_version_are_not_yet_a_binary_header()
    {
        Rejection(Real(), Luks2[..8]).Should().Be("header: 8 bytes, a LUKS2 binary header has 4096");
    }

    [Fact]
    public void A_uuid_field_without_a_terminating_nul_is_rejected()
    {
        var binary = BinaryHeader();
        binary.AsSpan(0xA8, 40).Fill((byte)'a');

        Rejection(Real(), binary).Should().Be($"header: uuid \"{new string('a', 40)}\" is not a UUID");
    }
}

