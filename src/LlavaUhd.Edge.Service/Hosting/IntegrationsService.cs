using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.HomeAssistant;
using LlavaUhd.Edge.Messaging.SparkplugB;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>
/// Runs the optional MQTT integrations (docs/sparkplug-b.md, docs/home-assistant.md): the Sparkplug B node follows
/// every answer (<see cref="IEdgePublisher.AnswerPublished"/>) and the cameras' state; the Home Assistant discovery
/// configs are published once the client runs. Started after and stopped before <see cref="MqttService"/>, so the
/// Sparkplug NDEATH goes out while the embedded broker still runs. A failing integration is logged, never fatal.
/// </summary>
internal sealed class IntegrationsService : IHostedService
{
    private readonly IEdgePublisher _client;
    private readonly CaptureService _capture;
    private readonly SparkplugPublisher? _sparkplug;
    private readonly HomeAssistantPublisher? _homeAssistant;
    private readonly ILogger _logger;

    /// <param name="client">The device's MQTT client.</param>
    /// <param name="capture">The cameras, whose failures become DDEATH.</param>
    /// <param name="sparkplug">The Sparkplug B node; null when <c>Mqtt:SparkplugB:Enabled</c> is false. Owned by the container.</param>
    /// <param name="homeAssistant">The discovery publisher; null when <c>Mqtt:HomeAssistant:Enabled</c> is false. Owned by the container.</param>
    /// <param name="logger">Logger.</param>
    public IntegrationsService(IEdgePublisher client, CaptureService capture, SparkplugPublisher? sparkplug, HomeAssistantPublisher? homeAssistant, ILogger<IntegrationsService> logger)
    {
        _client = client;
        _capture = capture;
        _sparkplug = sparkplug;
        _homeAssistant = homeAssistant;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_sparkplug is not null)
            {
                _client.AnswerPublished += _sparkplug.OnAnswer;
                _capture.CameraStateChanged += OnCameraState;
                await _sparkplug.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_homeAssistant is not null)
            {
                await _homeAssistant.StartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogError(ex, "MQTT integrations failed to start; the service goes on without them.");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_sparkplug is not null)
        {
            _client.AnswerPublished -= _sparkplug.OnAnswer;
            _capture.CameraStateChanged -= OnCameraState;
            await _sparkplug.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnCameraState(object? sender, CameraStatus status)
    {
        if (status.State is CameraState.Live or CameraState.Failed)
        {
            _sparkplug!.SetDeviceOnline(status.CameraId, status.State == CameraState.Live);
        }
    }
}
