namespace CvmControl.Systemd;

/// <summary>
/// One request through the daemon's real request pipeline (a listener, Kestrel, the middleware, routing
/// and the status handler), so that "it answers" means what a client would see.
/// </summary>
internal interface IPipelineProbe
{
    /// <summary>True when the request was answered with a success within <paramref name="timeout"/>.</summary>
    Task<bool> AnswersAsync(TimeSpan timeout, CancellationToken cancellationToken);
}
