using System.Security.Cryptography;

namespace CvmControl.Attestation.Verification;

internal static class ExpectationChecks
{
    /// <summary>Adds an error when an expectation is given and the evidence's field differs.</summary>
    public static void Compare(string field, ReadOnlySpan<byte> actual, byte[]? expected, VerificationResult result)
    {
        if (expected is null)
        {
            return;
        }
        if (expected.Length != actual.Length || !CryptographicOperations.FixedTimeEquals(actual, expected))
        {
            result.Fail($"{field} does not match the expected value (evidence has {Convert.ToHexStringLower(actual)}, expected {Convert.ToHexStringLower(expected)})");
        }
    }
}
