using CvmControl.Api.V1;
using CvmControl.Attestation;
using CvmControl.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CvmControl.Http;

internal static class AttestationApi
{
    public static RouteGroupBuilder MapAttestationApi(this RouteGroupBuilder api)
    {
        api.MapGet("/attestation", GetAttestation);
        return api;
    }

    public static async Task<Results<Ok<AttestationResponse>, JsonHttpResult<ErrorResponse>>> GetAttestation(
        [FromQuery] string? nonce, Caller caller, IAttestationService attestation, CancellationToken cancellationToken)
    {
        var (bytes, error) = ParseNonce(nonce);
        if (error is not null)
        {
            return error;
        }

        // The key this very connection was served with: after a rotation, new connections get the
        // new key, and a verifier on an older connection still sees the one its handshake used.
        var outcome = await attestation.AttestAsync(bytes!, caller.ServerKeySha256, cancellationToken);
        if (outcome.Evidence is not { } evidence)
        {
            return outcome.Failure == AttestationFailure.NoProvider
                ? ApiErrors.Of(StatusCodes.Status501NotImplemented, outcome.Error ?? "no attestation provider", outcome.Detail)
                : ApiErrors.Of(StatusCodes.Status503ServiceUnavailable, outcome.Error ?? "the attestation provider failed", outcome.Detail);
        }
        return TypedResults.Ok(new AttestationResponse
        {
            Provider = evidence.Provider,
            Evidence = Convert.ToBase64String(evidence.Evidence),
            Certificates = evidence.Certificates is { } certificates ? Convert.ToBase64String(certificates) : null,
            EventLog = evidence.EventLog is { } eventLog ? Convert.ToBase64String(eventLog) : null,
            ReportData = Convert.ToHexStringLower(evidence.ReportData),
            Nonce = Convert.ToHexStringLower(evidence.Nonce),
            TlsSpkiSha256 = Convert.ToHexStringLower(evidence.TlsSpkiSha256),
        });
    }

    /// <summary>Hex, either case, of 16 to 64 bytes. The value is never echoed back.</summary>
    internal static (byte[]? Nonce, JsonHttpResult<ErrorResponse>? Error) ParseNonce(string? hex)
    {
        const string Expected = "pass ?nonce= with 16 to 64 random bytes as hex (32 to 128 hex digits)";
        if (string.IsNullOrEmpty(hex))
        {
            return (null, ApiErrors.BadRequest("nonce is required", Expected));
        }
        if (!hex.All(char.IsAsciiHexDigit))
        {
            return (null, ApiErrors.BadRequest("nonce must be hex", Expected));
        }
        if (hex.Length % 2 != 0)
        {
            return (null, ApiErrors.BadRequest("nonce must have an even number of hex digits", Expected));
        }
        var length = hex.Length / 2;
        if (length is < AttestationBinding.MinNonceLength or > AttestationBinding.MaxNonceLength)
        {
            return (null, ApiErrors.BadRequest(
                $"nonce must be {AttestationBinding.MinNonceLength} to {AttestationBinding.MaxNonceLength} bytes",
                $"got {length} bytes"));
        }
        return (Convert.FromHexString(hex), null);
    }
}
