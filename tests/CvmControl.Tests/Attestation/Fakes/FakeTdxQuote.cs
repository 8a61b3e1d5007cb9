using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>
/// A TDX quote signed by a stand-in for Intel's PKI (<see cref="FakeIntel"/>, fresh per quote): a
/// P-256 root CA, PCK CA and PCK leaf, a quoting enclave report signed by the PCK key that binds a
/// fresh attestation key, and the quote signed by that attestation key. It verifies only with
/// <see cref="Anchors"/>, whose Intel pin is the fake root.
/// </summary>
internal sealed class FakeTdxQuote
{
    /// <summary>Every fake certificate is valid from here...</summary>
    public static readonly DateTimeOffset NotBefore = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>...to here.</summary>
    public static readonly DateTimeOffset NotAfter = new(2049, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A fixed instant inside the validity window.</summary>
    public static readonly DateTimeOffset ValidAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private FakeTdxQuote(byte[] quote, TrustAnchors anchors, byte[] mrtd, X509Certificate2 root)
    {
        Quote = quote;
        Anchors = anchors;
        Mrtd = mrtd;
        Root = root;
    }

    /// <summary>The quote proper, nothing appended.</summary>
    public byte[] Quote { get; }

    /// <summary>The real AMD pins, the fake root as the only Intel pin, and the fake root as the only embedded root.</summary>
    public TrustAnchors Anchors { get; }

    /// <summary>The random MRTD in the quote.</summary>
    public byte[] Mrtd { get; }

    /// <summary>The fake root CA (public part only).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Offset of the QE report inside <see cref="Quote"/>.</summary>
    public int QeReportOffset { get; private init; }

    /// <summary>Offset of the signed region's end (header, v5 body descriptor and body) inside <see cref="Quote"/>.</summary>
    public int SignedLength { get; private init; }

    /// <summary>Verification options with this quote's anchors at <see cref="ValidAt"/>.</summary>
    public VerificationOptions Options() => new() { At = ValidAt, Anchors = Anchors };

    /// <summary>
    /// Builds a signed quote. Version 4 carries a TDX 1.0 body; version 5 a TDX 1.5 body (type 3)
    /// unless <paramref name="tdx15Body"/> is false. With <paramref name="includeRoot"/> false the
    /// PEM chain stops at the PCK CA, so the verifier must take the root from <see cref="Anchors"/>.
    /// </summary>
    public static FakeTdxQuote Create(byte[] reportData, int version = 4, bool debug = false, bool? tdx15Body = null, bool includeRoot = true)
    {
        using var intel = new FakeIntel();
        var mrtd = RandomNumberGenerator.GetBytes(48);
        var quote = intel.Quote(
            new FakeQuoteSpec { ReportData = reportData, Version = version, Debug = debug, Tdx15Body = tdx15Body, IncludeRoot = includeRoot, Mrtd = mrtd },
            out var layout);
        return new FakeTdxQuote(quote, intel.Anchors, mrtd, intel.Root)
        {
            SignedLength = layout.SignedLength,
            QeReportOffset = layout.QeReportOffset,
        };
    }
}
