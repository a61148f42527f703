using System.Text.Json;
using System.Threading.Channels;
using LlavaUhd.Edge.Messaging.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// Applies the setting changes taken from <c>…/&lt;camera&gt;/&lt;setting&gt;/set</c> (docs/mqtt.md, "Topic tree"), one at
/// a time in arrival order, through the <see cref="ISettingsHandler"/>: a change it refuses gets an error reply
/// (<see cref="ErrorReplies"/>); an applied one is published as the retained <c>…/state</c> through the direct queue and
/// remembered in <see cref="RetainedMessages"/>, so every reconnect publishes it again. At most <see cref="Capacity"/>
/// changes wait; the <see cref="InboundRouter"/> refuses more as <c>busy</c>. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class SettingsWorker(MqttTopics topics, RetainedMessages retained, DirectPublisher direct, ErrorReplies errors, TimeProvider time, ILogger logger)
{
    public const int Capacity = 256;

    private readonly MqttTopics _topics = topics;
    private readonly RetainedMessages _retained = retained;
    private readonly DirectPublisher _direct = direct;
    private readonly ErrorReplies _errors = errors;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly Channel<SettingChange> _changes = Channel.CreateBounded<SettingChange>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Queues <paramref name="change"/>; false when <see cref="Capacity"/> changes are pending (the caller refuses it).</summary>
    public bool TryEnqueue(SettingChange change) => _changes.Writer.TryWrite(change);

    /// <summary>Applies queued changes through <paramref name="settings"/> (null: every change is accepted as is) until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(ISettingsHandler? settings, CancellationToken ct)
    {
        try
        {
            await foreach (SettingChange change in _changes.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                string topic = _topics.Set(change.Camera, change.SettingName);
                try
                {
                    RequestError? refused = settings is null ? null : await settings.ApplyAsync(change, ct).ConfigureAwait(false);
                    if (refused is not null)
                    {
                        _errors.Reject(change.Camera, topic, null, change.Reply, refused);
                        continue;
                    }

                    var state = new SettingState
                    {
                        Camera = change.Camera,
                        Setting = change.SettingName,
                        Enabled = change.Enabled,
                        Question = change.Question,
                        AnswerType = change.Setting == CameraSetting.Question ? settings?.AnswerTypeOf(change.Camera) : null,
                        IntervalS = change.IntervalS,
                        Timestamp = _time.GetUtcNow(),
                    };
                    byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, MessagingJsonContext.Default.SettingState);
                    string stateTopic = _topics.State(change.Camera, change.SettingName);
                    _retained.Set(stateTopic, json);
                    _direct.TryEnqueue(new MqttApplicationMessageBuilder().WithTopic(stateTopic)
                        .WithPayload(json).WithRetainFlag().WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "MQTT: setting {Setting} of {Camera} failed.", change.SettingName, change.Camera);
                    _errors.Reject(change.Camera, topic, null, change.Reply, new RequestError(ErrorCodes.Internal, ex.Message));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
