using CvmControl.Api.V1;

namespace CvmControl.Attestation.Client;

/// <summary>An online verification: the report, and whether it failed only because nothing answered.</summary>
internal sealed record OnlineVerification(VerifyReport Report, bool Unreachable);
