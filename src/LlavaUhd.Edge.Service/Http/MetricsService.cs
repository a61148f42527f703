using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Hosting;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.Hosting;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// Feeds <see cref="EdgeMetrics"/> from the parts that do not record it themselves: answers and refusals from the MQTT
/// client's events (by camera, by code), the gauges read at scrape time (queue, tokens/s, camera states, outbox), and
/// keeps the <see cref="AnswerLog"/> of the status page.
/// </summary>
internal sealed class MetricsService : IHostedService
{
    private readonly EdgeMetrics _metrics;
    private readonly IEdgePublisher _mqtt;
    private readonly AnswerLog _answers;

    public MetricsService(EdgeMetrics metrics, IEdgePublisher mqtt, AnswerLog answers, ModelWorker worker, LatencyStats stats, CaptureService capture, AnswerOutbox outbox)
    {
        _metrics = metrics;
        _mqtt = mqtt;
        _answers = answers;
        metrics.Observe(() => worker.Depth, () => stats.TokensPerSecond, () => capture.Statuses, () => outbox.PendingCount);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _mqtt.AnswerPublished += OnAnswer;
        _mqtt.ErrorPublished += OnError;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _mqtt.AnswerPublished -= OnAnswer;
        _mqtt.ErrorPublished -= OnError;
        return Task.CompletedTask;
    }

    private void OnAnswer(AnswerMessage answer)
    {
        _metrics.RecordAnswer(answer.Camera);
        _answers.Add(answer);
    }

    private void OnError(ErrorReply error) => _metrics.RecordError(error.Error);
}
