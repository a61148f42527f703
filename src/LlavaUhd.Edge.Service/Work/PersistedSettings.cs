using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlavaUhd.Edge.Core.Decoding;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Work;

/// <summary>
/// The settings changed over MQTT (<c>…/enable/set</c>, <c>…/question/set</c>, <c>…/interval/set</c>), kept in
/// <c>settings.json</c> next to the outbox so that a restart runs with them, as the retained <c>…/state</c> topics
/// say. Written whole to a temporary file and renamed over the old one (never half a file); a file that cannot be
/// read is logged and ignored (the configuration's values apply).
/// </summary>
internal sealed class PersistedSettings
{
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    public PersistedSettings(string directory, ILogger logger)
    {
        _path = System.IO.Path.Combine(directory, "settings.json");
        _logger = logger;
    }

    public string FilePath => _path;

    /// <summary>Applies the saved settings to the cameras that still exist (a camera removed from the configuration is skipped).</summary>
    public void Restore(IReadOnlyDictionary<string, CameraRuntime> cameras)
    {
        if (!File.Exists(_path))
        {
            return;
        }

        JsonObject? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(_path)) as JsonObject;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Settings: {File} cannot be read ({Message}); the configuration's settings apply.", _path, ex.Message);
            return;
        }

        foreach ((string id, JsonNode? node) in root ?? [])
        {
            if (!cameras.TryGetValue(id, out CameraRuntime? camera) || node is not JsonObject saved)
            {
                continue;
            }

            try
            {
                if (saved["enabled"] is JsonValue enabled && enabled.TryGetValue(out bool on))
                {
                    camera.Enabled = on;
                }

                StandingQuestion? primary = camera.Primary;
                if (primary is not null && saved["question"] is JsonValue question && question.TryGetValue(out string? text) && !string.IsNullOrWhiteSpace(text))
                {
                    primary.Question = text;
                }

                if (primary is not null && saved.TryGetPropertyValue("answer", out JsonNode? answer))
                {
                    // the answer type set over …/question/set (null: free text); absent in files of older versions
                    using JsonDocument doc = JsonDocument.Parse(answer?.ToJsonString() ?? "{}");
                    primary.AnswerType = AnswerType.FromRequest(doc.RootElement);
                    primary.AnswerTypeSetAtRuntime = true;
                }

                if (primary is { IsInterval: true } && saved["interval_s"] is JsonValue interval && interval.TryGetValue(out double seconds) && seconds > 0)
                {
                    primary.IntervalSeconds = seconds;
                }

                _logger.LogInformation("Settings: camera {Camera} restored from {File} (enabled {Enabled}, question {Question}, interval {Interval} s).",
                    id, _path, camera.Enabled, Core.Diagnostics.LogText.Quote(primary?.Question), primary?.IntervalSeconds.ToString(CultureInfo.InvariantCulture) ?? "-");
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException or AnswerTypeException)
            {
                _logger.LogWarning("Settings: camera {Camera} in {File} is malformed ({Message}); skipped.", id, _path, ex.Message);
            }
        }
    }

    /// <summary>Writes every camera's current settings.</summary>
    public void Save(IReadOnlyDictionary<string, CameraRuntime> cameras)
    {
        var root = new JsonObject();
        foreach ((string id, CameraRuntime camera) in cameras.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            StandingQuestion? primary = camera.Primary;
            var node = new JsonObject { ["enabled"] = camera.Enabled };
            if (primary is not null)
            {
                node["question"] = primary.Question;
                if (primary.AnswerTypeSetAtRuntime)
                {
                    node["answer"] = primary.AnswerType is { } type ? JsonNode.Parse(type.ToRequestJson()) : null;
                }
                if (primary.IsInterval)
                {
                    node["interval_s"] = primary.IntervalSeconds;
                }
            }

            root[id] = node;
        }

        lock (_lock)
        {
            string tmp = _path + ".tmp";
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, root, new JsonSerializerOptions { WriteIndented = true });
                stream.Flush(flushToDisk: true);
            }

            File.Move(tmp, _path, overwrite: true);
        }
    }
}
