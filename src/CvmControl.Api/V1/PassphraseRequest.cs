using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>Body of <c>POST /api/v1/passphrase</c>.</summary>
public sealed class PassphraseRequest
{
    /// <summary>Device-mapper name → passphrase change.</summary>
    [JsonPropertyName("volumes")]
    public Dictionary<string, PassphraseChange?>? Volumes { get; set; }
}

/// <summary>One volume's passphrase change.</summary>
public sealed class PassphraseChange
{
    /// <summary>A passphrase that opens the volume now.</summary>
    [JsonPropertyName("old_passphrase")]
    public string? OldPassphrase { get; set; }

    /// <summary>The passphrase to add. The old keyslot is kept unless <see cref="RevokeOld"/> is true.</summary>
    [JsonPropertyName("new_passphrase")]
    public string? NewPassphrase { get; set; }

    /// <summary>
    /// After the new passphrase is added and proven to open the volume, remove every keyslot the old
    /// passphrase opens (never the new one, never the last). Default false: the old keyslot is kept.
    /// </summary>
    [JsonPropertyName("revoke_old")]
    public bool? RevokeOld { get; set; }
}
