using System.Text;
using System.Text.Json;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// Parsers for the identity data disks carry. All input comes from the host, so each parser reads
/// only within the buffer, accepts only printable text, and answers null (with a reason where useful)
/// rather than guessing from malformed data.
/// </summary>
internal static class DiskIdentity
{
    /// <summary>The vendor-specific area of Identify Namespace starts here and runs to the end (3712 bytes).</summary>
    public const int NamespaceVendorSpecificOffset = 384;

    public const int IdentifyNamespaceBytes = 4096;

    /// <summary>
    /// The unit serial number from SCSI VPD page 0x80 as sysfs shows it (<c>device/vpd_pg80</c>): a 4-byte
    /// header (peripheral byte, page code 0x80, big-endian page length), then the serial, padded with
    /// spaces. Null unless the page code is 0x80 and the serial is non-empty printable ASCII.
    /// </summary>
    public static string? ScsiUnitSerial(ReadOnlySpan<byte> page)
    {
        if (page.Length < 4 || page[1] != 0x80)
        {
            return null;
        }
        var length = Math.Min((page[2] << 8) | page[3], page.Length - 4);
        var serial = page.Slice(4, length).TrimEnd((byte)0).Trim((byte)' ');
        return serial.Length > 0 && IsPrintableAscii(serial) ? Encoding.ASCII.GetString(serial) : null;
    }

    /// <summary>
    /// GCP's name for an NVMe persistent disk: Identify Namespace's vendor-specific area holds JSON such
    /// as <c>{"device_name":"persistent-disk-0","disk_type":"PERSISTENT"}</c>, ended by a NUL (GCP's
    /// <c>google_nvme_id</c> reads it from offset 384). Null, with the reason, unless the area holds exactly
    /// one JSON object with exactly one string <c>device_name</c>.
    /// </summary>
    public static string? GcpDeviceName(ReadOnlySpan<byte> identify, out string? problem)
    {
        if (VendorSpecificText(identify, out problem) is not { } text)
        {
            return null;
        }
        string? name = null;
        try
        {
            var reader = new Utf8JsonReader(text, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "the vendor-specific data is not a JSON object";
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isName = reader.ValueTextEquals("device_name"u8);
                reader.Read();
                if (!isName)
                {
                    reader.Skip();
                    continue;
                }
                if (reader.TokenType != JsonTokenType.String || name is not null)
                {
                    problem = name is null ? "device_name is not a string" : "device_name appears twice";
                    return null;
                }
                name = reader.GetString();
            }
            // Reading on to the end makes the reader reject anything after the object.
            while (reader.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            problem = $"the vendor-specific data is not valid JSON ({ex.Message})";
            return null;
        }
        if (string.IsNullOrEmpty(name) || !IsPrintableAscii(Encoding.UTF8.GetBytes(name)))
        {
            problem = name is null ? "no device_name in the vendor-specific data" : "device_name is empty or not printable ASCII";
            return null;
        }
        return name;
    }

    /// <summary>
    /// Azure's NVMe metadata: the vendor-specific area of Identify Namespace holds comma-separated
    /// <c>key=value</c> pairs ended by a NUL, e.g. <c>type=data,lun=4,name=data-db</c> (azure-vm-utils,
    /// doc/disk-identification.md). An area that starts with NUL means the disk does not support it: null,
    /// with no problem. Malformed pairs or a repeated key give null with the reason.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? AzureProperties(ReadOnlySpan<byte> identify, out string? problem)
    {
        if (VendorSpecificText(identify, out problem) is not { } text)
        {
            return null;
        }
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Encoding.ASCII.GetString(text).Split(','))
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0 || !properties.TryAdd(parts[0], parts[1]))
            {
                problem = $"malformed vendor-specific pair \"{pair}\"";
                return null;
            }
        }
        return properties;
    }

    /// <summary>
    /// The vendor-specific area up to its first NUL. Null with no problem when it is empty; null with a
    /// problem when the buffer is not a whole Identify Namespace or the text is not printable ASCII.
    /// </summary>
    private static byte[]? VendorSpecificText(ReadOnlySpan<byte> identify, out string? problem)
    {
        problem = null;
        if (identify.Length != IdentifyNamespaceBytes)
        {
            problem = $"identify data is {identify.Length} bytes, not {IdentifyNamespaceBytes}";
            return null;
        }
        var area = identify[NamespaceVendorSpecificOffset..];
        var end = area.IndexOf((byte)0);
        var text = end < 0 ? area : area[..end];
        if (text.IsEmpty)
        {
            return null;
        }
        if (!IsPrintableAscii(text))
        {
            problem = "the vendor-specific data is not printable ASCII";
            return null;
        }
        return text.ToArray();
    }

    private static bool IsPrintableAscii(ReadOnlySpan<byte> text) => !text.ContainsAnyExceptInRange((byte)0x20, (byte)0x7e);
}
