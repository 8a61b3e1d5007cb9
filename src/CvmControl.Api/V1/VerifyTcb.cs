using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>Intel's verdict on a TDX platform's TCB, judged from its TCB info and QE identity.</summary>
public sealed class VerifyTcb
{
    /// <summary>
    /// <c>UpToDate</c>, <c>SWHardeningNeeded</c>, <c>ConfigurationNeeded</c>, <c>ConfigurationAndSWHardeningNeeded</c>,
    /// <c>OutOfDate</c>, <c>OutOfDateConfigurationNeeded</c> or <c>Revoked</c>: the others folded together.
    /// </summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>The status of the platform TCB level matched.</summary>
    [JsonPropertyName("platform_status")]
    public required string PlatformStatus { get; init; }

    /// <summary>The TDX module's status from its identity; left out for module major version 0.</summary>
    [JsonPropertyName("tdx_module_status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TdxModuleStatus { get; init; }

    /// <summary>The quoting enclave's status from its identity.</summary>
    [JsonPropertyName("qe_status")]
    public required string QeStatus { get; init; }

    /// <summary>Intel security advisories (INTEL-SA-xxxxx) that apply.</summary>
    [JsonPropertyName("advisory_ids")]
    public required IReadOnlyList<string> AdvisoryIds { get; init; }

    /// <summary>Hex of the platform's FMSPC.</summary>
    [JsonPropertyName("fmspc")]
    public required string Fmspc { get; init; }

    /// <summary>The date of the platform TCB level matched (ISO 8601).</summary>
    [JsonPropertyName("tcb_date")]
    public required string TcbDate { get; init; }

    /// <summary>Intel's TCB evaluation data number of the collateral.</summary>
    [JsonPropertyName("tcb_evaluation_data_number")]
    public int TcbEvaluationDataNumber { get; init; }
}
