using System.Text.Json.Serialization;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// The <c>/readyz</c> body: ready, and when not, which of <c>model</c>, <c>camera</c> and <c>broker</c> is missing
/// (docs/http.md).
/// </summary>
internal sealed record ReadinessReport(
    bool Ready,
    IReadOnlyList<string> Missing,
    bool ModelLoaded,
    string EngineState,
    IReadOnlyList<string> LiveCameras,
    bool BrokerConnected);

/// <summary>An HTTP error body: a code like the MQTT error replies' (<c>unknown_camera</c>, <c>no_frame</c>, …) and a message.</summary>
internal sealed record HttpError(string Error, string Message);

/// <summary>System.Text.Json source generation for the HTTP bodies, with the MQTT messages' conventions (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(HttpError))]
internal sealed partial class HttpJsonContext : JsonSerializerContext
{
}
