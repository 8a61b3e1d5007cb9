namespace CvmControl.Client;

/// <summary>A request body ready to send: every passphrase reference resolved, the shape checked.</summary>
/// <param name="Body">The JSON the daemon gets.</param>
/// <param name="Volumes">The volumes it names, sorted.</param>
internal sealed record OwnerRequest(byte[] Body, IReadOnlyList<string> Volumes);
