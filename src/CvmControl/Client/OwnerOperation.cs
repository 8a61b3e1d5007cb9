namespace CvmControl.Client;

/// <summary>What an owner command asks of each target.</summary>
internal enum OwnerOperation
{
    Bootstrap,
    Rotate,
    Shutdown,
    Status,
}
