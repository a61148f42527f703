using System.Collections.Concurrent;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The retained messages the service owns — its status, every setting's state, the Home Assistant discovery configs
/// — remembered so that each reconnect publishes them again (a broker restarted without persistence forgets them).
/// Thread-safe. Every publish of a retained message goes through <see cref="PublishLatestAsync"/>: one at a time, and
/// always the value remembered at that moment, so a reconnect's republish racing a fresh change cannot leave an older
/// value retained on the broker. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class RetainedMessages : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, byte[]> _byTopic = new(StringComparer.Ordinal);
    private byte[]? _status;

    /// <summary>The latest status payload (published on its own topic before the others).</summary>
    public byte[]? Status
    {
        get => Volatile.Read(ref _status);
        set => Volatile.Write(ref _status, value);
    }

    /// <summary>Remembers <paramref name="payload"/> as the retained message of <paramref name="topic"/>.</summary>
    public void Set(string topic, byte[] payload) => _byTopic[topic] = payload;

    /// <summary>The topics of every remembered message except the status, for the republish after a reconnect.</summary>
    public IEnumerable<string> OtherTopics => _byTopic.Keys;

    /// <summary>The status topic's name in <see cref="PublishLatestAsync"/>.</summary>
    public const string StatusKey = "";

    /// <summary>
    /// Publishes the value remembered for <paramref name="topic"/> (<see cref="StatusKey"/>: the status, on
    /// <paramref name="statusTopic"/>) with <paramref name="publish"/>, one publish at a time.
    /// </summary>
    public async Task PublishLatestAsync(string topic, string statusTopic, Func<string, byte[], CancellationToken, Task> publish, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            byte[]? latest = topic == StatusKey ? Status : _byTopic.GetValueOrDefault(topic);
            if (latest is not null)
            {
                await publish(topic == StatusKey ? statusTopic : topic, latest, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
