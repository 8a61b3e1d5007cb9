using System.Text.Json;
using System.Text.Json.Serialization;
using CvmControl.Api.V1;

namespace CvmControl.Json;

/// <summary>
/// The one source-generated JSON context: every wire DTO and the bootstrap record.
/// Reflection-based serialization is disabled in the project, so a type missing here fails fast.
/// Input is read strictly: unknown fields and duplicate keys are errors.
/// </summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(BootstrapRequest))]
[JsonSerializable(typeof(PassphraseRequest))]
[JsonSerializable(typeof(ShutdownRequest))]
[JsonSerializable(typeof(OperationStatusResponse))]
[JsonSerializable(typeof(BootstrapRecord))]
[JsonSerializable(typeof(VerifyReport))]
[JsonSerializable(typeof(PlatformResponse))]
[JsonSerializable(typeof(ConfigFsTsmStatus))]
[JsonSerializable(typeof(AttestationResponse))]
[JsonSerializable(typeof(OwnerEvent))]
internal sealed partial class CvmJsonContext : JsonSerializerContext;
