using System.Globalization;

namespace CvmControl.OS;

/// <summary>A block device's number, <c>major:minor</c>, as stat's rdev, mountinfo and sysfs give it.</summary>
internal readonly record struct DeviceNumber(uint Major, uint Minor)
{
    /// <summary>Parses <c>major:minor</c> (sysfs <c>dev</c> files end in a newline, which is allowed).</summary>
    public static DeviceNumber? Parse(string text)
    {
        var parts = text.TrimEnd('\n').Split(':');
        return parts.Length == 2
            && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
                ? new DeviceNumber(major, minor)
                : null;
    }

    public override string ToString() => $"{Major.ToString(CultureInfo.InvariantCulture)}:{Minor.ToString(CultureInfo.InvariantCulture)}";
}
