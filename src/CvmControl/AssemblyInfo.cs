using System.Runtime.Versioning;

// The daemon drives cryptsetup, dm-crypt and mount: it only ever runs on Linux.
[assembly: SupportedOSPlatform("linux")]
