namespace CvmControl.Tests.Fakes;

/// <summary>A fake machine's root directory for the platform detector: /proc and /dev files as plain files.</summary>
internal sealed class FakeRoot : IDisposable
{
    private readonly TempDir _dir = new();

    public string Path => _dir.Path;

    public FakeRoot File(string relative, string content)
    {
        var path = _dir.Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return this;
    }

    /// <summary>A device node stands in as an empty file: the detector only asks whether it exists.</summary>
    public FakeRoot Device(string name) => File($"dev/{name}", "");

    /// <summary>Where the fake machine's ACPI CCEL table (the TDX event log) is, when <see cref="Ccel"/> writes it.</summary>
    public string CcelPath => _dir.Combine("sys/firmware/acpi/tables/data/CCEL");

    public FakeRoot Ccel(byte[] table)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(CcelPath)!);
        System.IO.File.WriteAllBytes(CcelPath, table);
        return this;
    }

    public FakeRoot KernelRelease(string release) => File("proc/sys/kernel/osrelease", release + "\n");

    /// <summary>One DMI string under /sys/class/dmi/id, as the firmware gives it (cloud detection reads these).</summary>
    public FakeRoot Dmi(string file, string value) => File($"sys/class/dmi/id/{file}", value + "\n");

    /// <summary>Two CPUs' worth of /proc/cpuinfo with the given vendor and flags.</summary>
    public FakeRoot CpuInfo(string vendor, params string[] flags)
    {
        var cpu = (int n) => $"""
            processor	: {n}
            vendor_id	: {vendor}
            cpu family	: 25
            model name	: Test CPU
            flags		: fpu vme de pse tsc msr pae {string.Join(' ', flags)}
            bogomips	: 5000.00

            """;
        return File("proc/cpuinfo", cpu(0) + cpu(1));
    }

    public void Dispose() => _dir.Dispose();
}
