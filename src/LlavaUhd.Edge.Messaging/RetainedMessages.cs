using System.Collections.Concurrent;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The retained messages the service owns — its status, every setting's state, the Home Assistant discovery configs
/// — remembered so that each reconnect publishes them again (a broker restarted without persistence forgets them),
/// the status first. Thread-safe. Every publish of a retained message goes through <see cref="PublishLatestAsync"/>:
/// one at a time, and always the value remembered at that moment, so a reconnect's republish racing a fresh change
/// cannot leave an older value retained on the broker. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class RetainedMessages(string statusTopic) : IDisposable
{
    private readonly string _statusTopic = statusTopic;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, byte[]> _byTopic = new(StringComparer.Ordinal);

    /// <summary>Remembers <paramref name="payload"/> as the retained message of <paramref name="topic"/>.</summary>
    public void Set(string topic, byte[] payload) => _byTopic[topic] = payload;

    /// <summary>Every remembered topic, the status first, for the republish after a reconnect.</summary>
    public IEnumerable<string> Topics =>
        _byTopic.ContainsKey(_statusTopic) ? _byTopic.Keys.Where(t => t != _statusTopic).Prepend(_statusTopic) : _byTopic.Keys;

    /// <summary>Publishes the value remembered for <paramref name="topic"/> with <paramref name="publish"/>, one publish at a time.</summary>
    public async Task PublishLatestAsync(string topic, Func<string, byte[], CancellationToken, Task> publish, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_byTopic.TryGetValue(topic, out byte[]? latest))
            {
                await publish(topic, latest, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
