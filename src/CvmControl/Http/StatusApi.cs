using CvmControl.Api.V1;
using CvmControl.Operations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

internal static class StatusApi
{
    public static RouteGroupBuilder MapStatusApi(this RouteGroupBuilder api)
    {
        api.MapGet("/status", GetStatus);
        return api;
    }

    public static Ok<StatusResponse> GetStatus(OperationTracker tracker) =>
        TypedResults.Ok(new StatusResponse(tracker.Phase switch
        {
            DaemonPhase.Ready => ApiStatus.Ready,
            DaemonPhase.Shutdown => ApiStatus.Shutdown,
            _ => ApiStatus.Bootstrap,
        }));
}
