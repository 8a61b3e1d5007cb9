using CvmControl.Api.V1;
using CvmControl.Attestation.Platform;
using CvmControl.Volumes.Devices;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

internal static class PlatformApi
{
    public static RouteGroupBuilder MapPlatformApi(this RouteGroupBuilder api)
    {
        api.MapGet("/platform", GetPlatform);
        return api;
    }

    /// <summary>What was detected at start; nothing is probed per request.</summary>
    public static Ok<PlatformResponse> GetPlatform(PlatformInfo platform, CloudSelection cloud) =>
        TypedResults.Ok(new PlatformResponse
        {
            Tee = platform.TeeName,
            ConfigFsTsm = new ConfigFsTsmStatus { Available = platform.ConfigFsTsm, Provider = platform.TsmProvider },
            Tpm = platform.Tpm,
            KernelRelease = platform.KernelRelease,
            CpuVendor = platform.CpuVendor,
            Cloud = cloud.Cloud.Name(),
        });
}
