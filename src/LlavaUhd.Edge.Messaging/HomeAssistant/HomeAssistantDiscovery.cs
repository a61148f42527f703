using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlavaUhd.Edge.Core.Decoding;
using LlavaUhd.Edge.Messaging.Options;

namespace LlavaUhd.Edge.Messaging.HomeAssistant;

/// <summary>
/// The Home Assistant MQTT discovery configs of the service (docs/home-assistant.md): one device; per camera a
/// <c>camera</c> (the JPEG snapshot topic), a <c>switch</c> (<c>…/enable/set</c>) and a <c>text</c>
/// (<c>…/question/set</c>); per standing question a <c>binary_sensor</c> (yes_no) or a <c>sensor</c> (number,
/// choice as an enum, json and free text as the answer text) reading the camera's <c>answer</c> topic, filtered by
/// <c>question_id</c>. Every entity's availability is the service's <c>available</c> topic.
/// </summary>
public sealed class HomeAssistantDiscovery
{
    private readonly string _prefix;
    private readonly MqttTopics _topics;
    private readonly HomeAssistantDevice _device;
    private readonly IReadOnlyList<string> _cameras;
    private readonly IReadOnlyList<HomeAssistantQuestion> _questions;

    public HomeAssistantDiscovery(HomeAssistantOptions options, MqttTopics topics, HomeAssistantDevice device, IEnumerable<string> cameras, IEnumerable<HomeAssistantQuestion> questions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cameras);
        ArgumentNullException.ThrowIfNull(questions);
        if (!MqttTopics.IsValidPrefix(options.DiscoveryPrefix))
        {
            throw new ArgumentException($"Invalid discovery prefix '{options.DiscoveryPrefix}'.", nameof(options));
        }

        _prefix = options.DiscoveryPrefix;
        _topics = topics ?? throw new ArgumentNullException(nameof(topics));
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _cameras = [.. cameras];
        _questions = [.. questions];
    }

    /// <summary>Home Assistant's birth and last-will topic: <c>online</c> there asks for the configs again.</summary>
    public string StatusTopic => _prefix + "/status";

    /// <summary>The discovery node id: the device id reduced to the characters Home Assistant accepts.</summary>
    public string NodeId => Id(_device.Id);

    /// <summary>The JPEG snapshot topic of a camera, <c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/snapshot</c> (docs/mqtt.md).</summary>
    public string SnapshotTopic(string camera) => _topics.Snapshot(camera);

    /// <summary>Every config, cameras first, then the standing questions in order.</summary>
    public IReadOnlyList<DiscoveryConfig> Configs()
    {
        var configs = new List<DiscoveryConfig>();
        foreach (string camera in _cameras)
        {
            configs.Add(Config("camera", $"{camera}_snapshot", $"{camera} snapshot", w => w.WriteString("topic", SnapshotTopic(camera))));
            configs.Add(Config("switch", $"{camera}_enable", $"{camera} standing questions", w =>
            {
                w.WriteString("command_topic", _topics.Set(camera, "enable"));
                w.WriteString("state_topic", _topics.State(camera, "enable"));
                w.WriteString("payload_on", "ON");
                w.WriteString("payload_off", "OFF");
                w.WriteString("value_template", "{{ 'ON' if value_json.enabled else 'OFF' }}");
            }));
            configs.Add(Config("text", $"{camera}_question", $"{camera} question", w =>
            {
                w.WriteString("command_topic", _topics.Set(camera, "question"));
                w.WriteString("command_template", "{{ value | tojson }}");   // the setting takes a JSON string
                w.WriteString("state_topic", _topics.State(camera, "question"));
                w.WriteString("value_template", "{{ value_json.question }}");
                w.WriteNumber("max", 255);
            }));
        }

        foreach (HomeAssistantQuestion q in _questions)
        {
            configs.Add(Question(q));
        }

        return configs;
    }

    /// <summary>A standing question's entity: its component and the template that keeps only its own answers.</summary>
    private DiscoveryConfig Question(HomeAssistantQuestion q)
    {
        string answerTopic = _topics.Answer(q.Camera);
        string mine = $"value_json.question_id == '{Quote(q.Name)}'";
        string objectId = $"{q.Camera}_{q.Name}";
        switch (q.Type?.Kind)
        {
            case AnswerKind.YesNo:
                // a payload that is neither payload_on nor payload_off is ignored by the binary sensor, and 'None' is
                // its unknown state: another question's answer renders the current state again
                return Config("binary_sensor", objectId, q.Name, w =>
                {
                    w.WriteString("state_topic", answerTopic);
                    w.WriteString("payload_on", "ON");
                    w.WriteString("payload_off", "OFF");
                    w.WriteString("value_template",
                        $"{{% if {mine} and value_json.value is boolean %}}{{{{ 'ON' if value_json.value else 'OFF' }}}}" +
                        "{% elif this.state == 'on' %}ON{% elif this.state == 'off' %}OFF{% else %}None{% endif %}");
                });
            case AnswerKind.Number:
                return Config("sensor", objectId, q.Name, w =>
                {
                    w.WriteString("state_topic", answerTopic);
                    w.WriteString("state_class", "measurement");
                    w.WriteString("value_template",
                        $"{{% if {mine} and value_json.value is number %}}{{{{ value_json.value }}}}{Keep}");
                });
            case AnswerKind.Choice:
                return Config("sensor", objectId, q.Name, w =>
                {
                    w.WriteString("state_topic", answerTopic);
                    w.WriteString("device_class", "enum");
                    w.WriteStartArray("options");
                    foreach (string option in q.Type.Options)
                    {
                        w.WriteStringValue(option);
                    }

                    w.WriteEndArray();
                    w.WriteString("value_template",
                        $"{{% if {mine} and value_json.value is string %}}{{{{ value_json.value }}}}{Keep}");
                });
            default:
                // json and free text: the answer text (a sensor state holds at most 255 characters)
                return Config("sensor", objectId, q.Name, w =>
                {
                    w.WriteString("state_topic", answerTopic);
                    w.WriteString("value_template",
                        $"{{% if {mine} %}}{{{{ value_json.answer[:255] }}}}{Keep}");
                });
        }
    }

    // another question's answer on the same topic renders the current state again; before the first answer of this
    // question the state is 'unknown', rendered as 'None' (the MQTT sensor's "no value")
    private const string Keep = "{% elif this.state in ('unknown', 'unavailable') %}None{% else %}{{ this.state }}{% endif %}";

    private DiscoveryConfig Config(string component, string objectId, string name, Action<Utf8JsonWriter> body)
    {
        string id = Id(objectId);
        using var buffer = new MemoryStream();
        // relaxed escaping: the templates' quotes stay readable (the payload is JSON for Home Assistant, never HTML)
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("unique_id", $"{NodeId}_{id}");
            body(w);
            w.WriteString("availability_topic", _topics.Available);
            w.WriteString("payload_available", MqttTopics.OnlinePayload);
            w.WriteString("payload_not_available", MqttTopics.OfflinePayload);
            w.WriteStartObject("device");
            w.WriteStartArray("identifiers");
            w.WriteStringValue(_device.Id);
            w.WriteEndArray();
            w.WriteString("name", _device.Name);
            w.WriteString("model", _device.Model);
            w.WriteString("sw_version", _device.SoftwareVersion);
            w.WriteString("manufacturer", HomeAssistantDevice.Manufacturer);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new DiscoveryConfig(component, id, $"{_prefix}/{component}/{NodeId}/{id}/config", buffer.ToArray());
    }

    /// <summary>Node and object ids: Home Assistant accepts <c>[a-zA-Z0-9_-]</c>; anything else becomes '_'.</summary>
    internal static string Id(string text)
    {
        var b = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return b.ToString();
    }

    /// <summary>A question name inside a single-quoted template string.</summary>
    private static string Quote(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
}
