using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.SparkplugB.Protobuf;

namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>
/// The Sparkplug B state of one edge node and its devices (one per camera), without any I/O: it builds NDEATH (the
/// will of each connection, with a bdSeq incremented per CONNECT), the births (NBIRTH with seq 0, then a DBIRTH per
/// online camera, carrying every metric's current value), DDATA with the metrics an answer changed (report by
/// exception), NDATA with changed node stats, DDEATH/DBIRTH when a camera fails and recovers, and numbers every
/// message after NBIRTH with seq 1, 2, … 255, 0, … (docs/sparkplug-b.md). Not thread-safe: one loop drives it.
/// </summary>
public sealed class SparkplugNode
{
    private readonly SparkplugNodeInfo _info;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly List<DeviceState> _order = [];
    private ulong _bdSeq;
    private bool _sessionStarted;
    private int _seq = -1;
    private bool _born;
    private ulong _answers;
    private uint? _lastQueueDepth;
    private ulong? _lastAnswers;

    /// <param name="topics">The node's topics.</param>
    /// <param name="info">Properties announced in NBIRTH.</param>
    /// <param name="cameras">The devices, one per camera, in birth order.</param>
    /// <param name="questions">The standing questions; each becomes value and answer metrics of its camera.</param>
    /// <param name="time">Clock of the timestamps.</param>
    public SparkplugNode(SparkplugTopics topics, SparkplugNodeInfo info, IEnumerable<string> cameras, IEnumerable<SparkplugQuestion> questions, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(cameras);
        ArgumentNullException.ThrowIfNull(questions);
        Topics = topics ?? throw new ArgumentNullException(nameof(topics));
        _info = info ?? throw new ArgumentNullException(nameof(info));
        _time = time ?? TimeProvider.System;
        foreach (string camera in cameras)
        {
            _ = topics.DeviceBirth(camera);   // throws on an id Sparkplug cannot carry
            var device = new DeviceState(camera);
            _devices.Add(camera, device);
            _order.Add(device);
        }

        foreach (SparkplugQuestion q in questions)
        {
            if (!_devices.TryGetValue(q.Camera, out DeviceState? device))
            {
                throw new ArgumentException($"Question '{q.Name}' is of camera '{q.Camera}', which is not one of the node's devices.", nameof(questions));
            }

            DataType type = SparkplugMetrics.DataTypeOf(q.Type);
            device.Questions.Add(q.Name, type);
            device.Define(SparkplugMetrics.QuestionValue(q.Name), type);
            device.Define(SparkplugMetrics.QuestionAnswer(q.Name), DataType.String);
        }

        foreach (DeviceState device in _order)
        {
            device.Define(SparkplugMetrics.LatencyMs, DataType.Double);
            device.Define(SparkplugMetrics.TokensPerSecond, DataType.Double);
        }
    }

    public SparkplugTopics Topics { get; }

    /// <summary>The bdSeq of the current (or next) connection: 0 for the first CONNECT, +1 per CONNECT after it, 255 → 0.</summary>
    public ulong BdSeq => _bdSeq;

    /// <summary>The seq of the last message (-1 before the first NBIRTH).</summary>
    public int LastSeq => _seq;

    /// <summary>True between <see cref="Births"/> and the next <see cref="BeginSession"/>: DATA messages may be published.</summary>
    public bool IsBorn => _born;

    /// <summary>Answers seen so far (the <c>Stats/Answers Total</c> metric).</summary>
    public ulong AnswersTotal => _answers;

    /// <summary>
    /// A new MQTT connection is about to be made: takes the next bdSeq and returns the NDEATH to register as its Last
    /// Will. Until <see cref="Births"/> nothing is born (DDATA is not produced, the state still follows answers).
    /// </summary>
    public SparkplugMessage BeginSession()
    {
        _bdSeq = _sessionStarted ? (_bdSeq + 1) % 256 : 0;
        _sessionStarted = true;
        _born = false;
        return NodeDeath();
    }

    /// <summary>The NDEATH of the current session: the bdSeq metric, a timestamp, no seq.</summary>
    public SparkplugMessage NodeDeath()
    {
        var payload = new Payload { Timestamp = Now() };
        payload.Metrics.Add(SparkplugMetrics.UInt64(SparkplugMetrics.BdSeq, _bdSeq));
        return new SparkplugMessage(Topics.NodeDeath, payload);
    }

    /// <summary>
    /// NBIRTH (seq 0, the session's bdSeq) followed by a DBIRTH for every online camera, each with all its metrics and
    /// their current values: after a connect and on a rebirth request.
    /// </summary>
    public IReadOnlyList<SparkplugMessage> Births(int queueDepth)
    {
        ulong now = Now();
        _seq = 0;
        var node = new Payload { Timestamp = now, Seq = 0 };
        node.Metrics.Add(Stamp(SparkplugMetrics.UInt64(SparkplugMetrics.BdSeq, _bdSeq), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.Boolean(SparkplugMetrics.Rebirth, false), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.String(SparkplugMetrics.Device, _info.Device), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.String(SparkplugMetrics.Model, _info.Model), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.String(SparkplugMetrics.Provider, _info.Provider), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.String(SparkplugMetrics.Version, _info.Version), now));
        uint depth = (uint)Math.Max(0, queueDepth);
        node.Metrics.Add(Stamp(SparkplugMetrics.UInt32(SparkplugMetrics.QueueDepth, depth), now));
        node.Metrics.Add(Stamp(SparkplugMetrics.UInt64(SparkplugMetrics.AnswersTotal, _answers), now));
        _lastQueueDepth = depth;
        _lastAnswers = _answers;
        var births = new List<SparkplugMessage>(1 + _order.Count) { new(Topics.NodeBirth, node) };
        _born = true;
        foreach (DeviceState device in _order)
        {
            if (device.Online)
            {
                births.Add(DeviceBirth(device, now));
            }
        }

        return births;
    }

    /// <summary>
    /// Follows an answer: updates its camera's metrics and returns the DDATA with those that changed (timestamped with
    /// the answer's time), or null when nothing is born, the camera is not a device of this node or is dead, or
    /// nothing changed.
    /// </summary>
    public SparkplugMessage? DeviceData(AnswerMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        _answers++;
        if (!_devices.TryGetValue(answer.Camera, out DeviceState? device))
        {
            return null;
        }

        ulong at = (ulong)answer.AnswerTimestamp.ToUnixTimeMilliseconds();
        var changed = new List<Payload.Types.Metric>(4);
        if (answer.QuestionId is { } id && device.Questions.TryGetValue(id, out DataType type))
        {
            Set(device, SparkplugMetrics.Value(SparkplugMetrics.QuestionValue(id), type, answer), at, changed);
            Set(device, SparkplugMetrics.String(SparkplugMetrics.QuestionAnswer(id), answer.Answer), at, changed);
        }

        Set(device, SparkplugMetrics.Double(SparkplugMetrics.LatencyMs, answer.Timings.TotalMs), at, changed);
        Set(device, SparkplugMetrics.Double(SparkplugMetrics.TokensPerSecond, SparkplugMetrics.TokensPerSecondOf(answer)), at, changed);
        if (!_born || !device.Online || changed.Count == 0)
        {
            return null;
        }

        var payload = new Payload { Timestamp = Now(), Seq = NextSeq() };
        payload.Metrics.Add(changed);
        return new SparkplugMessage(Topics.DeviceData(device.Camera), payload);
    }

    /// <summary>NDATA with the node stats that changed since the last birth or NDATA; null when none did or nothing is born.</summary>
    public SparkplugMessage? NodeData(int queueDepth)
    {
        if (!_born)
        {
            return null;
        }

        ulong now = Now();
        uint depth = (uint)Math.Max(0, queueDepth);
        var payload = new Payload { Timestamp = now };
        if (depth != _lastQueueDepth)
        {
            payload.Metrics.Add(Stamp(SparkplugMetrics.UInt32(SparkplugMetrics.QueueDepth, depth), now));
            _lastQueueDepth = depth;
        }

        if (_answers != _lastAnswers)
        {
            payload.Metrics.Add(Stamp(SparkplugMetrics.UInt64(SparkplugMetrics.AnswersTotal, _answers), now));
            _lastAnswers = _answers;
        }

        if (payload.Metrics.Count == 0)
        {
            return null;
        }

        payload.Seq = NextSeq();
        return new SparkplugMessage(Topics.NodeData, payload);
    }

    /// <summary>
    /// A camera failed (<paramref name="online"/> false: DDEATH) or is live again (DBIRTH with its current values);
    /// null when its state did not change, it is not a device of this node, or nothing is born (the next births
    /// follow the state).
    /// </summary>
    public SparkplugMessage? SetDeviceOnline(string camera, bool online)
    {
        if (!_devices.TryGetValue(camera, out DeviceState? device) || device.Online == online)
        {
            return null;
        }

        device.Online = online;
        if (!_born)
        {
            return null;
        }

        if (online)
        {
            return DeviceBirth(device, Now());
        }

        var payload = new Payload { Timestamp = Now(), Seq = NextSeq() };
        return new SparkplugMessage(Topics.DeviceDeath(camera), payload);
    }

    /// <summary>True when <paramref name="command"/> (an NCMD payload) sets <c>Node Control/Rebirth</c> to true.</summary>
    public static bool IsRebirthRequest(Payload command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Payload.Types.Metric m in command.Metrics)
        {
            if (m.Name == SparkplugMetrics.Rebirth && m.ValueCase == Payload.Types.Metric.ValueOneofCase.BooleanValue && m.BooleanValue)
            {
                return true;
            }
        }

        return false;
    }

    private SparkplugMessage DeviceBirth(DeviceState device, ulong now)
    {
        var payload = new Payload { Timestamp = now, Seq = NextSeq() };
        foreach ((string name, DataType type) in device.Definitions)
        {
            payload.Metrics.Add(device.Current.TryGetValue(name, out Payload.Types.Metric? m)
                ? Stamp(m.Clone(), device.ChangedAt[name])
                : Stamp(SparkplugMetrics.Null(name, type), now));
        }

        return new SparkplugMessage(Topics.DeviceBirth(device.Camera), payload);
    }

    private static void Set(DeviceState device, Payload.Types.Metric metric, ulong at, List<Payload.Types.Metric> changed)
    {
        if (device.Current.TryGetValue(metric.Name, out Payload.Types.Metric? last) && last.Equals(metric))
        {
            return;
        }

        device.Current[metric.Name] = metric;
        device.ChangedAt[metric.Name] = at;
        changed.Add(Stamp(metric.Clone(), at));
    }

    private static Payload.Types.Metric Stamp(Payload.Types.Metric metric, ulong timestamp)
    {
        metric.Timestamp = timestamp;
        return metric;
    }

    private ulong NextSeq()
    {
        _seq = (_seq + 1) & 0xFF;
        return (ulong)_seq;
    }

    private ulong Now() => (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed class DeviceState(string camera)
    {
        public string Camera { get; } = camera;

        public bool Online { get; set; } = true;

        public Dictionary<string, DataType> Questions { get; } = new(StringComparer.Ordinal);

        public List<(string Name, DataType Type)> Definitions { get; } = [];

        /// <summary>The latest value of each metric, without timestamp (compared to find changes).</summary>
        public Dictionary<string, Payload.Types.Metric> Current { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ulong> ChangedAt { get; } = new(StringComparer.Ordinal);

        public void Define(string name, DataType type) => Definitions.Add((name, type));
    }
}
