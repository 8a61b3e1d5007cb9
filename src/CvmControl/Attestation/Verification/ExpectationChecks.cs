using System.Security.Cryptography;

namespace CvmControl.Attestation.Verification;

internal static class ExpectationChecks
{
    /// <summary>Adds an error when an expectation is given and the evidence's field differs.</summary>
    /// <param name="field">The field's name in the vendor's layout (REPORT_DATA, MRTD, ...).</param>
    /// <param name="expectation">What the caller gave: "value", or "measurement" for a launch measurement.</param>
    public static void Compare(string field, string expectation, ReadOnlySpan<byte> actual, byte[]? expected, VerificationResult result)
    {
        if (expected is null)
        {
            return;
        }
        if (expected.Length != actual.Length || !CryptographicOperations.FixedTimeEquals(actual, expected))
        {
            result.Fail($"{field} does not match the expected {expectation} (evidence has {Convert.ToHexStringLower(actual)}, expected {Convert.ToHexStringLower(expected)})");
        }
    }
}
