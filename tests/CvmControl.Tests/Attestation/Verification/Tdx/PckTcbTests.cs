using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// Reading the platform TCB from a PCK certificate's SGX Extensions: the values, and a refusal
/// naming the field for every way the extension can be malformed.
/// </summary>
public sealed class PckTcbTests
{
    private const string Sgx = PckTcb.SgxExtensionsOid;

    /// <summary>An extension's {OID, value} pairs, in order, so that a test can drop, repeat or replace one.</summary>
    private sealed class Pairs : List<(string Oid, Action<AsnWriter> Write)>
    {
        public Pairs Set(string oid, Action<AsnWriter> write)
        {
            this[FindIndex(p => p.Oid == oid)] = (oid, write);
            return this;
        }

        public Pairs Without(string oid)
        {
            RemoveAll(p => p.Oid == oid);
            return this;
        }

        public Pairs Plus(string oid, Action<AsnWriter> write)
        {
            Add((oid, write));
            return this;
        }

        public void WriteTo(AsnWriter writer)
        {
            using (writer.PushSequence())
            {
                foreach (var (oid, write) in this)
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(oid);
                        write(writer);
                    }
                }
            }
        }
    }

    private static Action<AsnWriter> Integer(long value) => w => w.WriteInteger(value);

    private static Action<AsnWriter> Octets(params byte[] value) => w => w.WriteOctetString(value);

    /// <summary>The TCB pairs: component SVNs 1 to 16 (component i has SVN i), PCESVN 11, CPUSVN.</summary>
    private static Pairs Tcb()
    {
        var pairs = new Pairs();
        for (var i = 1; i <= 16; i++)
        {
            pairs.Plus($"{Sgx}.2.{i}", Integer(i));
        }
        return pairs.Plus($"{Sgx}.2.17", Integer(11)).Plus($"{Sgx}.2.18", Octets(new byte[16]));
    }

    /// <summary>The SGX Extensions pairs around <paramref name="tcb"/>: PPID, TCB, PCE-ID 0000, FMSPC 00A06D080000, SGX type.</summary>
    private static Pairs Extensions(Pairs? tcb = null) => new Pairs()
        .Plus($"{Sgx}.1", Octets(new byte[16]))
        .Plus($"{Sgx}.2", (tcb ?? Tcb()).WriteTo)
        .Plus($"{Sgx}.3", Octets(0, 0))
        .Plus($"{Sgx}.4", Octets(Convert.FromHexString("00A06D080000")))
        .Plus($"{Sgx}.5", w => w.WriteEncodedValue([0x0A, 0x01, 0x02])); // ENUMERATED 2 (platform)

    private static byte[] Encode(Pairs pairs)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        pairs.WriteTo(writer);
        return writer.Encode();
    }

    private static X509Certificate2 Pck(byte[]? sgxExtensions)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Test PCK", key, HashAlgorithmName.SHA256);
        if (sgxExtensions is not null)
        {
            request.CertificateExtensions.Add(new X509Extension(Sgx, sgxExtensions, critical: false));
        }
        return request.CreateSelfSigned(FakeTdxQuote.NotBefore, FakeTdxQuote.NotAfter);
    }

    private static PckTcb Read(Pairs extensions)
    {
        using var pck = Pck(Encode(extensions));
        return PckTcb.Read(pck);
    }

    private static string RefusalOf(Pairs extensions) =>
        FluentActions.Invoking(() => Read(extensions)).Should().Throw<CollateralFormatException>().Which.Message;

    [Fact]
    public void The_component_SVNs_PCESVN_PCE_ID_and_FMSPC_are_read()
    {
        var tcb = Read(Extensions());

        tcb.ComponentSvns.Should().Equal(Enumerable.Range(1, 16).Select(i => (byte)i));
        tcb.PceSvn.Should().Be(11);
        tcb.PceId.Should().Equal(0, 0);
        tcb.Fmspc.Should().Equal(Convert.FromHexString("00A06D080000"));
    }

    [Fact]
    public void The_fake_Intel_PCK_extension_reads_back_as_issued()
    {
        var issued = new FakePckTcb { ComponentSvns = FakeTcbLevel.Svns(3, 1, 4, 1, 5), PceSvn = 13, PceId = [1, 2], Fmspc = [9, 8, 7, 6, 5, 4] };
        using var pck = Pck(FakeIntel.SgxExtensions(issued));

        PckTcb.Read(pck).Should().BeEquivalentTo(new PckTcb(issued.ComponentSvns, 13, [1, 2], [9, 8, 7, 6, 5, 4]));
    }

    [Fact]
    public void SVNs_at_their_maximum_are_accepted()
    {
        var tcb = Read(Extensions(Tcb().Set($"{Sgx}.2.16", Integer(255)).Set($"{Sgx}.2.17", Integer(65535))));

        tcb.ComponentSvns[15].Should().Be(255);
        tcb.PceSvn.Should().Be(65535);
    }

    [Fact]
    public void A_certificate_without_SGX_Extensions_is_refused()
    {
        using var pck = Pck(null);

        FluentActions.Invoking(() => PckTcb.Read(pck)).Should().Throw<CollateralFormatException>()
            .Which.Message.Should().Be("PCK certificate 'Test PCK' has no SGX Extensions (1.2.840.113741.1.13.1)");
    }

    [Theory]
    [InlineData(256L)]
    [InlineData(-1L)]
    [InlineData(1L << 40)]
    public void A_component_SVN_outside_a_byte_is_refused_naming_the_component(long svn)
    {
        RefusalOf(Extensions(Tcb().Set($"{Sgx}.2.3", Integer(svn))))
            .Should().Be("PCK certificate's TCB component 3 SVN is not a whole number from 0 to 255");
    }

    [Fact]
    public void A_component_SVN_followed_by_more_data_is_refused()
    {
        RefusalOf(Extensions(Tcb().Set($"{Sgx}.2.1", w =>
        {
            w.WriteInteger(1);
            w.WriteInteger(2);
        }))).Should().Be("PCK certificate's TCB component 1 SVN is not a whole number from 0 to 255");
    }

    [Fact]
    public void A_PCESVN_outside_16_bits_is_refused()
    {
        RefusalOf(Extensions(Tcb().Set($"{Sgx}.2.17", Integer(65536))))
            .Should().Be("PCK certificate's PCESVN is not a whole number from 0 to 65535");
    }

    [Fact]
    public void A_PCE_ID_or_FMSPC_of_another_length_is_refused()
    {
        RefusalOf(Extensions().Set($"{Sgx}.3", Octets(0, 0, 0))).Should().Be("PCK certificate's PCE-ID is 3 bytes, not 2");
        RefusalOf(Extensions().Set($"{Sgx}.4", Octets(0, 0xA0, 0x6D, 8, 0))).Should().Be("PCK certificate's FMSPC is 5 bytes, not 6");
    }

    [Fact]
    public void An_FMSPC_followed_by_more_data_is_refused()
    {
        RefusalOf(Extensions().Set($"{Sgx}.4", w =>
        {
            w.WriteOctetString(new byte[6]);
            w.WriteNull();
        })).Should().Be("PCK certificate's FMSPC is followed by other data");
    }

    [Theory]
    [InlineData(Sgx + ".4")]
    [InlineData(Sgx + ".3")]
    [InlineData(Sgx + ".2")]
    public void Missing_fields_are_refused_naming_the_OID(string oid)
    {
        RefusalOf(Extensions().Without(oid)).Should().Be($"PCK certificate's SGX Extensions lack {oid}");
    }

    [Fact]
    public void A_missing_TCB_component_is_refused_naming_its_OID()
    {
        RefusalOf(Extensions(Tcb().Without($"{Sgx}.2.17"))).Should().Be($"PCK certificate's SGX Extensions lack {Sgx}.2.17");
    }

    [Fact]
    public void A_field_named_twice_is_refused_saying_where()
    {
        RefusalOf(Extensions().Plus($"{Sgx}.4", Octets(new byte[6])))
            .Should().Be($"PCK certificate's SGX Extensions name {Sgx}.4 twice");
        RefusalOf(Extensions(Tcb().Plus($"{Sgx}.2.5", Integer(5))))
            .Should().Be($"PCK certificate's SGX Extensions TCB name {Sgx}.2.5 twice");
    }

    [Fact]
    public void Data_after_the_extension_sequence_is_refused()
    {
        using var pck = Pck([.. Encode(Extensions()), 0x05, 0x00]);

        FluentActions.Invoking(() => PckTcb.Read(pck)).Should().Throw<AsnContentException>();
    }

    [Fact]
    public void Data_after_the_TCB_sequence_is_refused()
    {
        var tcb = Tcb();

        FluentActions.Invoking(() => Read(Extensions().Set($"{Sgx}.2", w =>
        {
            tcb.WriteTo(w);
            w.WriteNull();
        }))).Should().Throw<AsnContentException>();
    }
}
