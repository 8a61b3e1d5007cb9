using CvmControl.Tools;

namespace CvmControl.Volumes;

internal sealed class VolumeOptions
{
    /// <summary>PBKDF cost of new keyslots; null fields keep cryptsetup's defaults.</summary>
    public LuksCost Cost { get; set; } = LuksCost.Default;

    /// <summary>Where 0600 key files live for the instant cryptsetup reads them; must be on tmpfs.</summary>
    public string KeyDirectory { get; set; } = "/run/cvm/keys";
}
