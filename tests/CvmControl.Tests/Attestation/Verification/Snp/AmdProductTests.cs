using CvmControl.Attestation.Verification.Snp;

namespace CvmControl.Tests.Attestation.Verification.Snp;

public sealed class AmdProductTests
{
    // Family 0x19: Milan models 0x00-0x0F, Genoa 0x10-0x1F and 0xA0-0xAF (Bergamo, Siena); family 0x1A: Turin 0x00-0x1F.
    [Theory]
    [InlineData(0x19, 0x00, "Milan")]
    [InlineData(0x19, 0x0F, "Milan")]
    [InlineData(0x19, 0x10, "Genoa")]
    [InlineData(0x19, 0x1F, "Genoa")]
    [InlineData(0x19, 0x20, null)]
    [InlineData(0x19, 0x9F, null)]
    [InlineData(0x19, 0xA0, "Genoa")]
    [InlineData(0x19, 0xAF, "Genoa")]
    [InlineData(0x19, 0xB0, null)]
    [InlineData(0x1A, 0x00, "Turin")]
    [InlineData(0x1A, 0x1F, "Turin")]
    [InlineData(0x1A, 0x20, null)]
    [InlineData(0x17, 0x31, null)]
    public void A_CPUID_family_and_model_name_a_product_only_within_its_ranges(byte family, byte model, string? product) =>
        AmdProduct.FromCpuid(family, model).Should().Be(product);
}
