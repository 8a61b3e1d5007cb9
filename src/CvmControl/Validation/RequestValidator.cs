using CvmControl.Api.V1;
using CvmControl.OS;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Validation;

/// <summary>Outcome of validation: a plan, or every problem found, each naming its field.</summary>
internal sealed record Validated<T>(T? Plan, IReadOnlyList<string> Errors)
    where T : class
{
    public bool IsValid => Plan is not null;
}

/// <summary>
/// Turns wire requests into plans. Everything is checked before anything is accepted;
/// messages name the field as a dotted path (<c>volumes.data.volume_id is required</c>).
/// </summary>
internal static class RequestValidator
{
    /// <summary>Most volumes one request may carry (EBS allows fewer attachments than this per instance).</summary>
    public const int MaxVolumes = 64;

    /// <summary>Most env files, and separately secret files, one request may carry.</summary>
    public const int MaxFiles = 256;

    /// <summary>Most variables one file may hold.</summary>
    public const int MaxVariablesPerFile = 1024;

    /// <param name="cloud">The cloud the daemon runs as: it decides what a <c>volume_id</c> must look like.</param>
    public static Validated<BootstrapPlan> Validate(BootstrapRequest request, string runDir, CloudKind cloud = CloudKind.Generic)
    {
        var errors = new List<string>();

        var userId = request.UserId;
        if (string.IsNullOrEmpty(userId))
        {
            errors.Add("user_id is required");
        }
        else if (!Names.IsEnvValue(userId))
        {
            errors.Add("user_id must not contain NUL or line breaks");
        }

        var env = ValidateFiles("env", request.Env, errors);
        var secret = ValidateFiles("secret", request.Secret, errors);
        var volumes = ValidateVolumes(request.Volumes, runDir, cloud, errors);

        return errors.Count > 0
            ? new Validated<BootstrapPlan>(null, errors)
            : new Validated<BootstrapPlan>(new BootstrapPlan(userId!, env, secret, volumes), errors);
    }

    public static Validated<PassphrasePlan> Validate(PassphraseRequest request)
    {
        var errors = new List<string>();
        var changes = new List<PassphraseChangePlan>();
        if (request.Volumes is null || request.Volumes.Count == 0)
        {
            errors.Add(request.Volumes is null ? "volumes is required" : "volumes must not be empty");
        }
        else if (request.Volumes.Count > MaxVolumes)
        {
            errors.Add($"volumes has {request.Volumes.Count} entries; at most {MaxVolumes} are allowed");
        }
        else
        {
            foreach (var (name, change) in request.Volumes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var field = $"volumes.{name}";
                if (!Names.IsDmName(name))
                {
                    errors.Add($"{field}: invalid volume name (allowed: A-Z a-z 0-9 . _ -, not starting with -, at most {Names.MaxDmNameLength} characters)");
                    continue;
                }
                if (change is null)
                {
                    errors.Add($"{field} must be an object");
                    continue;
                }
                var old = RequirePassphrase(change.OldPassphrase, $"{field}.old_passphrase", errors);
                var @new = RequirePassphrase(change.NewPassphrase, $"{field}.new_passphrase", errors);
                if (old is not null && @new is not null)
                {
                    changes.Add(new PassphraseChangePlan(name, old, @new, change.RevokeOld ?? false));
                }
            }
        }
        return errors.Count > 0
            ? new Validated<PassphrasePlan>(null, errors)
            : new Validated<PassphrasePlan>(new PassphrasePlan(changes), errors);
    }

    private static List<EnvFile> ValidateFiles(string field, Dictionary<string, Dictionary<string, string?>?>? files, List<string> errors)
    {
        var result = new List<EnvFile>();
        if (files is null)
        {
            return result;
        }
        if (files.Count > MaxFiles)
        {
            errors.Add($"{field} has {files.Count} files; at most {MaxFiles} are allowed");
            return result;
        }
        foreach (var (name, variables) in files.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var fileField = $"{field}.{name}";
            if (!Names.IsFileName(name))
            {
                errors.Add($"{fileField}: invalid file name (allowed: A-Z a-z 0-9 . _ -, not starting with -, not . or ..)");
                continue;
            }
            if (variables is null)
            {
                errors.Add($"{fileField} must be an object");
                continue;
            }
            if (variables.Count > MaxVariablesPerFile)
            {
                errors.Add($"{fileField} has {variables.Count} variables; at most {MaxVariablesPerFile} are allowed");
                continue;
            }
            var pairs = new List<KeyValuePair<string, string>>();
            foreach (var (key, value) in variables.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!Names.IsEnvKey(key))
                {
                    errors.Add($"{fileField}.{key}: invalid variable name (must match [A-Za-z_][A-Za-z0-9_]*)");
                }
                else if (value is null)
                {
                    errors.Add($"{fileField}.{key} must be a string");
                }
                else if (!Names.IsWellFormed(value))
                {
                    errors.Add($"{fileField}.{key}: value must be well-formed Unicode");
                }
                else if (!Names.IsEnvValue(value))
                {
                    // Never echo the value: it may be a secret.
                    errors.Add($"{fileField}.{key}: value must not contain NUL or line breaks");
                }
                else
                {
                    pairs.Add(new(key, value));
                }
            }
            result.Add(new EnvFile(name, pairs));
        }
        return result;
    }

    private static List<VolumePlan> ValidateVolumes(Dictionary<string, VolumeSpec?>? volumes, string runDir, CloudKind cloud, List<string> errors)
    {
        var result = new List<VolumePlan>();
        if (volumes is null)
        {
            errors.Add("volumes is required");
            return result;
        }
        if (volumes.Count == 0)
        {
            errors.Add("volumes must not be empty");
            return result;
        }
        if (volumes.Count > MaxVolumes)
        {
            errors.Add($"volumes has {volumes.Count} entries; at most {MaxVolumes} are allowed");
            return result;
        }

        foreach (var (name, spec) in volumes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var field = $"volumes.{name}";
            if (!Names.IsDmName(name))
            {
                errors.Add($"{field}: invalid volume name (allowed: A-Z a-z 0-9 . _ -, not starting with -, not . or .., at most {Names.MaxDmNameLength} characters)");
                continue;
            }
            if (spec is null)
            {
                errors.Add($"{field} must be an object");
                continue;
            }

            var volumeId = spec.VolumeId;
            var volumeIdProblem = string.IsNullOrEmpty(volumeId) ? "is required" : VolumeIds.Check(cloud, volumeId);
            if (string.IsNullOrEmpty(volumeId))
            {
                errors.Add($"{field}.volume_id is required");
            }
            else if (volumeIdProblem is not null)
            {
                errors.Add($"{field}.volume_id: {volumeIdProblem}");
            }

            var passphrase = RequirePassphrase(spec.Passphrase, $"{field}.passphrase", errors);

            var mountPoint = spec.MountPoint ?? "/" + name;
            if (MountPoints.Check(mountPoint, runDir) is { } why)
            {
                errors.Add(spec.MountPoint is null
                    ? $"{field}.mount_point: the default /{name} {why}; give a mount_point"
                    : $"{field}.mount_point {why}");
                mountPoint = null;
            }

            var integrity = spec.Integrity ?? false;
            if (integrity && name.Length > Names.MaxIntegrityDmNameLength)
            {
                errors.Add($"{field}: a volume with integrity may have a name of at most {Names.MaxIntegrityDmNameLength} characters (its layers below are named after it)");
                continue;
            }

            if (passphrase is not null && mountPoint is not null && volumeIdProblem is null)
            {
                result.Add(new VolumePlan(new VolumeTarget(name, volumeId!, mountPoint, integrity), passphrase));
            }
        }

        CheckDistinct(result, errors);
        return result;
    }

    private static void CheckDistinct(List<VolumePlan> volumes, List<string> errors)
    {
        foreach (var group in volumes.GroupBy(v => v.Target.VolumeId, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"volume_id {group.Key} is used by more than one volume ({string.Join(", ", group.Select(v => v.Target.DmName))})");
        }
        foreach (var group in volumes.GroupBy(v => v.Target.MountPoint, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"mount point {group.Key} is used by more than one volume ({string.Join(", ", group.Select(v => v.Target.DmName))})");
        }
        // Volumes mount in parallel, so one inside another could end up hidden under its parent.
        foreach (var inner in volumes)
        {
            foreach (var outer in volumes)
            {
                if (inner != outer && inner.Target.MountPoint.StartsWith(outer.Target.MountPoint + "/", StringComparison.Ordinal))
                {
                    errors.Add($"volumes.{inner.Target.DmName}.mount_point {inner.Target.MountPoint} lies under volumes.{outer.Target.DmName}.mount_point {outer.Target.MountPoint}");
                }
            }
        }
    }

    private static Passphrase? RequirePassphrase(string? value, string field, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"{field} is required");
            return null;
        }
        if (!Names.IsWellFormed(value))
        {
            errors.Add($"{field} must be well-formed Unicode");
            return null;
        }
        return new Passphrase(value);
    }
}
