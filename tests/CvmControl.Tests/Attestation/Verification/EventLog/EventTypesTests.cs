using CvmControl.Attestation.Verification.EventLog;

namespace CvmControl.Tests.Attestation.Verification.EventLog;

public sealed class EventTypesTests
{
    /// <summary>
    /// Values and names from the "Events" table of the TCG PC Client Platform Firmware Profile
    /// (section 10.4.1, Event Types), which lists the EFI types (0x8000xxxx) too. An operator reads
    /// these names in the verify output, so each must be the spec's name for that value.
    /// </summary>
    [Theory]
    [InlineData(0x00000000u, "EV_PREBOOT_CERT")]
    [InlineData(0x00000001u, "EV_POST_CODE")]
    [InlineData(0x00000002u, "EV_UNUSED")]
    [InlineData(0x00000003u, "EV_NO_ACTION")]
    [InlineData(0x00000004u, "EV_SEPARATOR")]
    [InlineData(0x00000005u, "EV_ACTION")]
    [InlineData(0x00000006u, "EV_EVENT_TAG")]
    [InlineData(0x00000007u, "EV_S_CRTM_CONTENTS")]
    [InlineData(0x00000008u, "EV_S_CRTM_VERSION")]
    [InlineData(0x00000009u, "EV_CPU_MICROCODE")]
    [InlineData(0x0000000Au, "EV_PLATFORM_CONFIG_FLAGS")]
    [InlineData(0x0000000Bu, "EV_TABLE_OF_DEVICES")]
    [InlineData(0x0000000Cu, "EV_COMPACT_HASH")]
    [InlineData(0x0000000Du, "EV_IPL")]
    [InlineData(0x0000000Eu, "EV_IPL_PARTITION_DATA")]
    [InlineData(0x0000000Fu, "EV_NONHOST_CODE")]
    [InlineData(0x00000010u, "EV_NONHOST_CONFIG")]
    [InlineData(0x00000011u, "EV_NONHOST_INFO")]
    [InlineData(0x00000012u, "EV_OMIT_BOOT_DEVICE_EVENTS")]
    [InlineData(0x80000001u, "EV_EFI_VARIABLE_DRIVER_CONFIG")]
    [InlineData(0x80000002u, "EV_EFI_VARIABLE_BOOT")]
    [InlineData(0x80000003u, "EV_EFI_BOOT_SERVICES_APPLICATION")]
    [InlineData(0x80000004u, "EV_EFI_BOOT_SERVICES_DRIVER")]
    [InlineData(0x80000005u, "EV_EFI_RUNTIME_SERVICES_DRIVER")]
    [InlineData(0x80000006u, "EV_EFI_GPT_EVENT")]
    [InlineData(0x80000007u, "EV_EFI_ACTION")]
    [InlineData(0x80000008u, "EV_EFI_PLATFORM_FIRMWARE_BLOB")]
    [InlineData(0x80000009u, "EV_EFI_HANDOFF_TABLES")]
    [InlineData(0x8000000Au, "EV_EFI_PLATFORM_FIRMWARE_BLOB2")]
    [InlineData(0x8000000Bu, "EV_EFI_HANDOFF_TABLES2")]
    [InlineData(0x8000000Cu, "EV_EFI_VARIABLE_BOOT2")]
    [InlineData(0x80000010u, "EV_EFI_HCRTM_EVENT")]
    [InlineData(0x800000E0u, "EV_EFI_VARIABLE_AUTHORITY")]
    public void A_TCG_event_type_is_named_as_the_PC_Client_firmware_profile_names_it(uint type, string name)
    {
        EventTypes.NameOf(type).Should().Be(name);
    }

    [Fact]
    public void Dstacks_runtime_event_type_0x08000001_has_its_own_name()
    {
        EventTypes.DstackRuntime.Should().Be(0x08000001u, "dstack's guest agent logs its runtime events with this type");
        EventTypes.NameOf(0x08000001).Should().Be("DSTACK_RUNTIME_EVENT");
    }

    [Theory]
    [InlineData(0x0000FFFFu)]
    [InlineData(0x8000FFFFu)]
    [InlineData(0xFFFFFFFFu)]
    public void A_type_outside_the_table_has_no_name(uint type)
    {
        EventTypes.NameOf(type).Should().BeNull();
    }
}
