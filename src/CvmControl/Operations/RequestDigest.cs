using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CvmControl.Validation;

namespace CvmControl.Operations;

/// <summary>
/// Fingerprints whole requests, passphrases included, so that "identical" can be decided without
/// keeping any secret. It is an HMAC under a key that lives only in this process's memory, so a
/// digest is useless to anyone who reads it and cannot be brute-forced offline.
/// </summary>
internal sealed class RequestDigest
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public byte[] Of(BootstrapPlan plan)
    {
        var canonical = new CanonicalWriter();
        canonical.Add("bootstrap").Add(plan.UserId);
        AddFiles(canonical, "env", plan.EnvFiles);
        AddFiles(canonical, "secret", plan.SecretFiles);
        canonical.Add("volumes").Add(plan.Volumes.Count);
        foreach (var volume in plan.Volumes)
        {
            canonical.Add(volume.Target.DmName).Add(volume.Target.VolumeId).Add(volume.Target.MountPoint).Add(volume.Target.Integrity ? "integrity" : "plain")
                .Add(volume.Passphrase.Value);
        }
        return HMACSHA256.HashData(_key, canonical.ToArray());
    }

    public byte[] Of(PassphrasePlan plan)
    {
        var canonical = new CanonicalWriter();
        canonical.Add("passphrase").Add(plan.Volumes.Count);
        foreach (var change in plan.Volumes)
        {
            canonical.Add(change.DmName).Add(change.Old.Value).Add(change.New.Value).Add(change.RevokeOld ? "revoke" : "keep");
        }
        return HMACSHA256.HashData(_key, canonical.ToArray());
    }

    public static bool Same(byte[]? a, byte[]? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(a, b);

    private static void AddFiles(CanonicalWriter canonical, string kind, IReadOnlyList<EnvFile> files)
    {
        canonical.Add(kind).Add(files.Count);
        foreach (var file in files)
        {
            canonical.Add(file.Name).Add(file.Variables.Count);
            foreach (var (key, value) in file.Variables)
            {
                canonical.Add(key).Add(value);
            }
        }
    }

    /// <summary>Length-prefixed fields, so that no two different requests share an encoding.</summary>
    private sealed class CanonicalWriter
    {
        private readonly MemoryStream _buffer = new();

        public CanonicalWriter Add(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Add(bytes.Length);
            _buffer.Write(bytes);
            return this;
        }

        public CanonicalWriter Add(int value)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, value);
            _buffer.Write(length);
            return this;
        }

        public byte[] ToArray() => _buffer.ToArray();
    }
}
