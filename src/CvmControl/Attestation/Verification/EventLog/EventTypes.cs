using System.Collections.Frozen;

namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// Event types of the TCG PC Client Platform Firmware Profile, as UEFI firmware (TDVF, TD-shim)
/// logs them, plus dstack's runtime event.
/// </summary>
internal static class EventTypes
{
    public const uint NoAction = 0x00000003;

    /// <summary>dstack's runtime events (app-id, compose-hash, ...), extended into RTMR3 by its guest agent; not a TCG type.</summary>
    public const uint DstackRuntime = 0x08000001;

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [0x00000000] = "EV_PREBOOT_CERT",
        [0x00000001] = "EV_POST_CODE",
        [0x00000002] = "EV_UNUSED",
        [NoAction] = "EV_NO_ACTION",
        [0x00000004] = "EV_SEPARATOR",
        [0x00000005] = "EV_ACTION",
        [0x00000006] = "EV_EVENT_TAG",
        [0x00000007] = "EV_S_CRTM_CONTENTS",
        [0x00000008] = "EV_S_CRTM_VERSION",
        [0x00000009] = "EV_CPU_MICROCODE",
        [0x0000000A] = "EV_PLATFORM_CONFIG_FLAGS",
        [0x0000000B] = "EV_TABLE_OF_DEVICES",
        [0x0000000C] = "EV_COMPACT_HASH",
        [0x0000000D] = "EV_IPL",
        [0x0000000E] = "EV_IPL_PARTITION_DATA",
        [0x0000000F] = "EV_NONHOST_CODE",
        [0x00000010] = "EV_NONHOST_CONFIG",
        [0x00000011] = "EV_NONHOST_INFO",
        [0x00000012] = "EV_OMIT_BOOT_DEVICE_EVENTS",
        [0x80000001] = "EV_EFI_VARIABLE_DRIVER_CONFIG",
        [0x80000002] = "EV_EFI_VARIABLE_BOOT",
        [0x80000003] = "EV_EFI_BOOT_SERVICES_APPLICATION",
        [0x80000004] = "EV_EFI_BOOT_SERVICES_DRIVER",
        [0x80000005] = "EV_EFI_RUNTIME_SERVICES_DRIVER",
        [0x80000006] = "EV_EFI_GPT_EVENT",
        [0x80000007] = "EV_EFI_ACTION",
        [0x80000008] = "EV_EFI_PLATFORM_FIRMWARE_BLOB",
        [0x80000009] = "EV_EFI_HANDOFF_TABLES",
        [0x8000000A] = "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
        [0x8000000B] = "EV_EFI_HANDOFF_TABLES2",
        [0x8000000C] = "EV_EFI_VARIABLE_BOOT2",
        [0x80000010] = "EV_EFI_HCRTM_EVENT",
        [0x800000E0] = "EV_EFI_VARIABLE_AUTHORITY",
        [DstackRuntime] = "DSTACK_RUNTIME_EVENT",
    }.ToFrozenDictionary();

    /// <summary>The name of a known type; null for any other.</summary>
    public static string? NameOf(uint type) => Names.GetValueOrDefault(type);
}
