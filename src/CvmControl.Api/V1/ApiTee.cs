namespace CvmControl.Api.V1;

/// <summary>String values of the <c>tee</c> field of <c>GET /api/v1/platform</c>.</summary>
public static class ApiTee
{
    /// <summary>AMD SEV-SNP.</summary>
    public const string SevSnp = "sev-snp";

    /// <summary>Intel TDX.</summary>
    public const string Tdx = "tdx";

    /// <summary>No TEE interface was found: a plain VM, or one whose guest driver is not loaded.</summary>
    public const string None = "none";
}
