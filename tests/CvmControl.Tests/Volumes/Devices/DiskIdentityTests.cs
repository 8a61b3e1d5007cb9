using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class DiskIdentityTests
{
    [Fact]
    public void Reads_the_device_name_from_a_real_gcp_nvme_persistent_disk()
    {
        DiskIdentity.GcpDeviceName(DiskTestData.GcpPersistentDisk0, out var problem).Should().Be("persistent-disk-0");
        problem.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"disk_type":"PERSISTENT","device_name":"data-1"}""", "data-1")]
    [InlineData("""  {"device_name" : "data-1", "nested": {"device_name": "other"}, "list": [1, "x"]}  """, "data-1")]
    public void Finds_device_name_wherever_it_sits_at_the_top_level(string json, string expected)
    {
        DiskIdentity.GcpDeviceName(DiskTestData.WithVendorSpecific(json), out _).Should().Be(expected);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("""{"disk_type":"PERSISTENT"}""", "no device_name in the vendor-specific data")]
    [InlineData("""{"device_name":"a","device_name":"b"}""", "device_name appears twice")]
    [InlineData("""{"device_name":7}""", "device_name is not a string")]
    [InlineData("""{"device_name":""}""", "device_name is empty or not printable ASCII")]
    [InlineData("""{"device_name":"d\u00e9"}""", "device_name is empty or not printable ASCII")]
    [InlineData("""["device_name","data-1"]""", "the vendor-specific data is not a JSON object")]
    [InlineData("""{"device_name":"data-1"}{"device_name":"data-2"}""", "the vendor-specific data is not valid JSON")]
    [InlineData("""{"device_name":"data-1" """, "the vendor-specific data is not valid JSON")]
    [InlineData("\"device_name\":\"data-1\"\n\t", "the vendor-specific data is not printable ASCII")]
    public void Gives_no_name_and_says_why_for_data_that_is_not_one_clean_json_object(string text, string? problem)
    {
        DiskIdentity.GcpDeviceName(DiskTestData.WithVendorSpecific(text), out var why).Should().BeNull();
        if (problem is null)
        {
            why.Should().BeNull("an empty area means the disk has no metadata");
        }
        else
        {
            why.Should().StartWith(problem);
        }
    }

    [Fact]
    public void A_vendor_area_with_no_nul_at_all_is_still_bounded_by_the_buffer()
    {
        var area = Enumerable.Repeat((byte)'{', 3712).ToArray();

        DiskIdentity.GcpDeviceName(DiskTestData.WithVendorSpecific(area), out var problem).Should().BeNull();
        problem.Should().StartWith("the vendor-specific data is not valid JSON");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(384)]
    [InlineData(4095)]
    [InlineData(8192)]
    public void A_buffer_that_is_not_a_whole_identify_structure_is_refused(int length)
    {
        DiskIdentity.GcpDeviceName(new byte[length], out var problem).Should().BeNull();
        problem.Should().Be($"identify data is {length} bytes, not 4096");
        DiskIdentity.AzureProperties(new byte[length], out problem).Should().BeNull();
        problem.Should().Be($"identify data is {length} bytes, not 4096");
    }

    [Fact]
    public void Reads_azure_data_disk_metadata()
    {
        DiskIdentity.AzureProperties(DiskTestData.AzureDataLun4, out var problem).Should().BeEquivalentTo(
            new Dictionary<string, string> { ["type"] = "data", ["lun"] = "4", ["name"] = "data-db" });
        problem.Should().BeNull();
        DiskIdentity.AzureProperties(DiskTestData.AzureOs, out _).Should().BeEquivalentTo(new Dictionary<string, string> { ["type"] = "os" });
        DiskIdentity.AzureProperties(DiskTestData.AzureLocal, out _)!["type"].Should().Be("local");
    }

    [Fact]
    public void An_azure_area_that_starts_with_nul_has_no_metadata_and_no_problem()
    {
        DiskIdentity.AzureProperties(DiskTestData.AzureEmpty, out var problem).Should().BeNull();
        problem.Should().BeNull();
    }

    [Theory]
    [InlineData("type=data,lun")]
    [InlineData("type=data,lun=1=2")]
    [InlineData("type=data,,lun=1")]
    [InlineData("type=data,type=os")]
    [InlineData("=data")]
    public void Malformed_azure_metadata_is_refused_with_the_pair(string text)
    {
        DiskIdentity.AzureProperties(DiskTestData.WithVendorSpecific(text), out var problem).Should().BeNull();
        problem.Should().StartWith("malformed vendor-specific pair");
    }

    [Fact]
    public void Reads_the_serial_from_vpd_page_0x80_as_the_kernel_served_it_for_a_qemu_scsi_disk()
    {
        DiskIdentity.ScsiUnitSerial(DiskTestData.QemuScsiVpdPage80).Should().Be("data-disk-1");
        FakeSysfs.VpdPage80("data-disk-1").Should().Equal(DiskTestData.QemuScsiVpdPage80, "the fake sysfs lays pages out as the kernel does");
    }

    [Theory]
    [InlineData("data-disk-1", "data-disk-1")]
    [InlineData("SER123  ", "SER123")]
    public void Reads_the_unit_serial_of_vpd_page_0x80(string serial, string expected)
    {
        DiskIdentity.ScsiUnitSerial(FakeSysfs.VpdPage80(serial)).Should().Be(expected);
    }

    [Fact]
    public void A_vpd_length_beyond_the_page_is_clamped_to_it()
    {
        DiskIdentity.ScsiUnitSerial([0x00, 0x80, 0xff, 0xff, (byte)'a', (byte)'b']).Should().Be("ab");
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x83, 0x00, 0x02, 0x41, 0x42 })]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x02, 0x41, 0x0a })]
    [InlineData(new byte[] { 0x00, 0x80, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x03, 0x20, 0x20, 0x20 })]
    public void Gives_no_serial_for_another_page_an_empty_serial_or_unprintable_bytes(byte[] page)
    {
        DiskIdentity.ScsiUnitSerial(page).Should().BeNull();
    }
}
