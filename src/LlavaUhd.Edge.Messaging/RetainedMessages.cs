using System.Collections.Concurrent;

namespace LlavaUhd.Edge.Messaging;

/// <summary>
/// The retained messages the service owns — its status, every setting's state, the Home Assistant discovery configs
/// — remembered so that each reconnect publishes them again (a broker restarted without persistence forgets them).
/// Thread-safe. Composed into <see cref="EdgeMqttClient"/>.
/// </summary>
internal sealed class RetainedMessages
{
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

    /// <summary>Every remembered message except the status, for the republish after a reconnect.</summary>
    public IEnumerable<KeyValuePair<string, byte[]>> Others => _byTopic;
}
