namespace CvmControl.Metrics;

/// <summary>The step label values of <c>cvm_control_volume_step_duration_seconds</c>: one per tool run that shapes a volume.</summary>
internal static class VolumeSteps
{
    public const string LuksFormat = "luksFormat";
    public const string Open = "open";
    public const string Mkfs = "mkfs";
    public const string E2fsck = "e2fsck";
    public const string Resize2fs = "resize2fs";
    public const string Mount = "mount";
    public const string IntegrityFormat = "integrity_format";
    public const string IntegrityOpen = "integrity_open";
}
