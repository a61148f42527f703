using System.Buffers;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Messaging.Tests;

/// <summary>The same end-to-end scenarios against every broker kind (mosquitto and the embedded one).</summary>
public abstract class BrokerScenarios
{
    private readonly IBrokerEndpoint _broker;

    protected BrokerScenarios(IBrokerEndpoint broker) => _broker = broker;

    protected int Port => _broker.Port;

    internal static JsonElement Json(MqttApplicationMessage m) => JsonDocument.Parse(m.Payload.ToArray()).RootElement;

    [Fact]
    public async Task Answer_ArrivesWithAllFields()
    {
        await using TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        await using TestClient robot = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, device.Topics.Answer("cam1"));

        await robot.PublishAsync(device.Topics.Ask("cam1"), """{"question":"Is the door open?","id":"q-1","roi":{"x":10,"y":20,"width":300,"height":200},"max_tokens":32}""");

        MqttApplicationMessage m = await robot.NextAsync();
        JsonElement a = Json(m);
        Assert.Equal(device.Topics.Answer("cam1"), m.Topic);
        Assert.Equal(32, a.GetProperty("id").GetString()!.Length);
        Assert.Equal("q-1", a.GetProperty("question_id").GetString());
        Assert.Equal(device.Options.DeviceId, a.GetProperty("device").GetString());
        Assert.Equal("cam1", a.GetProperty("camera").GetString());
        Assert.Equal(EchoHandler.FrameTime, a.GetProperty("frame_timestamp").GetDateTimeOffset());
        Assert.True(a.GetProperty("answer_timestamp").GetDateTimeOffset() > EchoHandler.FrameTime);
        Assert.Equal(300, a.GetProperty("roi").GetProperty("width").GetInt32());
        Assert.Equal(20, a.GetProperty("roi").GetProperty("y").GetInt32());
        Assert.Equal("Is the door open?", a.GetProperty("question").GetString());
        Assert.Equal("echo: Is the door open?", a.GetProperty("answer").GetString());
        Assert.Equal(12, a.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, a.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(640, a.GetProperty("visual_tokens").GetInt32());
        Assert.Equal(1.5, a.GetProperty("timings").GetProperty("encode_ms").GetDouble());
        Assert.Equal(4, a.GetProperty("timings").GetProperty("total_ms").GetDouble());
        Assert.Equal("test-model", a.GetProperty("model").GetString());
        Assert.InRange(device.Outbox.PendingCount, 0, 1); // the answer just received may still await its PUBACK
    }

    [Fact]
    public async Task V5Request_GetsCorrelatedResponse()
    {
        await using TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        string replyTopic = "robots/r1/replies/" + Guid.NewGuid().ToString("N")[..6];
        await using TestClient robot = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, replyTopic);
        byte[] correlation = [0, 1, 2, 0xFE, 0xFF];

        await robot.PublishAsync(device.Topics.Ask("cam2"), """{"question":"count boxes"}""", replyTopic, correlation);

        MqttApplicationMessage reply = await robot.NextAsync();
        Assert.Equal(replyTopic, reply.Topic);
        Assert.Equal(correlation, reply.CorrelationData);
        Assert.Equal("echo: count boxes", Json(reply).GetProperty("answer").GetString());
        Assert.Equal("cam2", Json(reply).GetProperty("camera").GetString());
    }

    [Fact]
    public async Task V311Request_ReplyToAndCorrelationId_GetsResponse()
    {
        await using TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        string replyTopic = "plc/line3/replies/" + Guid.NewGuid().ToString("N")[..6];
        await using TestClient plc = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V311, replyTopic);

        await plc.PublishAsync(device.Topics.Ask("cam1"), $$"""{"question":"any people?","reply_to":"{{replyTopic}}","correlation_id":"job-42"}""");

        MqttApplicationMessage reply = await plc.NextAsync();
        Assert.Equal(replyTopic, reply.Topic);
        Assert.Equal("job-42", Json(reply).GetProperty("correlation_id").GetString());
        Assert.Equal("echo: any people?", Json(reply).GetProperty("answer").GetString());
    }

    [Fact]
    public async Task Will_FiresWhenClientDies_OnlineOnConnect()
    {
        TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        await using TestClient watcher = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, device.Topics.Available);
        MqttApplicationMessage online = await watcher.NextAsync();
        Assert.Equal("online", Encoding.UTF8.GetString(online.Payload.ToArray()));

        await device.CrashAsync(); // no DISCONNECT

        MqttApplicationMessage will = await watcher.NextAsync(m => Encoding.UTF8.GetString(m.Payload.ToArray()) == "offline");
        Assert.Equal(device.Topics.Available, will.Topic);
        Directory.Delete(device.Options.Outbox.Directory, recursive: true);
    }

    [Theory]
    [InlineData("not json at all", ErrorCodes.InvalidJson)]
    [InlineData("[1,2,3]", ErrorCodes.InvalidJson)]
    [InlineData("""{"question":42}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"ok","roi":{"x":"a"}}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"ok","max_tokens":-1}""", ErrorCodes.InvalidField)]
    [InlineData("""{"question":"ok"}""", ErrorCodes.UnknownCamera, "cam9")]
    [InlineData("OVERSIZED", ErrorCodes.PayloadTooLarge)]
    [InlineData("INVALID_UTF8", ErrorCodes.InvalidUtf8)]
    public async Task MalformedQuestion_GetsErrorReply(string payload, string code, string camera = "cam1")
    {
        await using TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        string replyTopic = "robots/err/" + Guid.NewGuid().ToString("N")[..6];
        await using TestClient robot = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, replyTopic, device.Topics.Errors);
        byte[] bytes = payload switch
        {
            "OVERSIZED" => Encoding.UTF8.GetBytes("{\"question\":\"" + new string('x', 10_000) + "\"}"),
            "INVALID_UTF8" => [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'],
            _ => Encoding.UTF8.GetBytes(payload),
        };

        // With a response topic: the error goes there, correlated.
        await robot.PublishAsync(device.Topics.Ask(camera), bytes, replyTopic, [7, 7]);
        MqttApplicationMessage reply = await robot.NextAsync(m => m.Topic == replyTopic);
        Assert.Equal(code, Json(reply).GetProperty("error").GetString());
        Assert.Equal([7, 7], reply.CorrelationData);

        // Without one: to the device's errors topic. And the device keeps working.
        await robot.PublishAsync(device.Topics.Ask(camera), bytes);
        MqttApplicationMessage error = await robot.NextAsync(m => m.Topic == device.Topics.Errors);
        Assert.Equal(code, Json(error).GetProperty("error").GetString());

        await robot.PublishAsync(device.Topics.Ask("cam1"), """{"question":"still alive?"}""", replyTopic, [1]);
        MqttApplicationMessage ok = await robot.NextAsync(m => m.Topic == replyTopic);
        Assert.Equal("echo: still alive?", Json(ok).GetProperty("answer").GetString());
    }

    [Fact]
    public async Task MalformedSetting_GetsErrorReply_ValidSettingPublishesState()
    {
        await using TestDevice device = await TestDevice.StartAsync(TestDevice.NewOptions(Port));
        await using TestClient ha = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, device.Topics.Errors, device.Topics.Root + "/+/+/state");

        await ha.PublishAsync(device.Topics.Set("cam1", "interval"), "\"soon\"");
        Assert.Equal(ErrorCodes.InvalidField, Json(await ha.NextAsync(m => m.Topic == device.Topics.Errors)).GetProperty("error").GetString());
        await ha.PublishAsync(device.Topics.Set("cam1", "zoom"), "2");
        Assert.Equal(ErrorCodes.UnknownSetting, Json(await ha.NextAsync(m => m.Topic == device.Topics.Errors)).GetProperty("error").GetString());
        await ha.PublishAsync(device.Topics.Set("nope", "enable"), "ON");
        Assert.Equal(ErrorCodes.UnknownCamera, Json(await ha.NextAsync(m => m.Topic == device.Topics.Errors)).GetProperty("error").GetString());

        await ha.PublishAsync(device.Topics.Set("cam2", "enable"), "OFF");
        MqttApplicationMessage state = await ha.NextAsync(m => m.Topic == device.Topics.State("cam2", "enable"));
        Assert.False(Json(state).GetProperty("enabled").GetBoolean());
        await ha.PublishAsync(device.Topics.Set("cam2", "interval"), "2.5");
        state = await ha.NextAsync(m => m.Topic == device.Topics.State("cam2", "interval"));
        Assert.Equal(2.5, Json(state).GetProperty("interval_s").GetDouble());
    }

    [Fact]
    public async Task QuestionFlood_GetsBusyReplies_QueueBounded()
    {
        var gate = new GatedHandler();
        var options = TestDevice.NewOptions(Port);
        options.QuestionQueueCapacity = 3;
        options.QuestionWorkers = 1;
        await using TestDevice device = await TestDevice.StartAsync(options, gate);
        string replyTopic = "robots/flood/" + Guid.NewGuid().ToString("N")[..6];
        await using TestClient robot = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, replyTopic);
        const int N = 30;

        for (int i = 0; i < N; i++)
        {
            await robot.PublishAsync(device.Topics.Ask("cam1"), $$"""{"question":"q{{i}}","id":"{{i}}"}""", replyTopic, [(byte)i]);
        }

        // At most capacity + workers questions are held; the rest are answered "busy" at once, while the handler is blocked.
        int maxHeld = options.QuestionQueueCapacity + options.QuestionWorkers;
        List<MqttApplicationMessage> busy = await robot.CollectAsync(N - maxHeld);
        Assert.Equal(N - maxHeld, busy.Count);
        Assert.All(busy, m => Assert.Equal(ErrorCodes.Busy, Json(m).GetProperty("error").GetString()));
        Assert.True(device.Client.QueueDepth <= maxHeld);
        Assert.Equal(1, gate.MaxInside);

        gate.Release();
        List<MqttApplicationMessage> answers = await robot.CollectAsync(maxHeld);
        Assert.Equal(maxHeld, answers.Count);
        Assert.All(answers, m => Assert.Equal("ok", Json(m).GetProperty("answer").GetString()));
        Assert.Equal(N - maxHeld, device.Client.QuestionsBusy);
    }

    [Fact]
    public async Task Outbox_SurvivesCrash_NewOutboxDrainsInOrder()
    {
        var options = TestDevice.NewOptions(Port);
        var broken = TestDevice.NewOptions(TestPorts.Free(), options.Outbox.Directory, options.DeviceId); // nothing listens there
        TestDevice first = await TestDevice.StartAsync(broken, waitConnected: false, ownsDirectory: false);
        for (int i = 0; i < 25; i++)
        {
            first.Client.PublishAnswer(Answer(options.DeviceId, "cam1", i));
        }

        Assert.Equal(25, first.Outbox.PendingCount);
        await first.CrashAsync();

        await using TestClient robot = await TestClient.ConnectAsync(Port, MqttProtocolVersion.V500, first.Topics.Answer("cam1"));
        await using TestDevice second = await TestDevice.StartAsync(options);
        List<MqttApplicationMessage> got = await robot.CollectAsync(25);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            got.Select(m => Json(m).GetProperty("answer").GetString()));
        await WaitUntilAsync(() => second.Outbox.PendingCount == 0);
    }

    internal static AnswerMessage Answer(string device, string camera, int i) => new()
    {
        Id = "a" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Device = device,
        Camera = camera,
        Question = "n?",
        Answer = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Model = "m",
        FrameTimestamp = DateTimeOffset.UtcNow,
        AnswerTimestamp = DateTimeOffset.UtcNow,
    };

    internal static async Task WaitUntilAsync(Func<bool> condition, double timeoutSeconds = 10)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (!condition())
        {
            await Task.Delay(10, cts.Token);
        }
    }
}

[Collection(MosquittoCollection.Name)]
public sealed class MosquittoScenarios(MosquittoFixture broker) : BrokerScenarios(broker);

[Collection(EmbeddedCollection.Name)]
public sealed class EmbeddedBrokerScenarios(EmbeddedBrokerFixture broker) : BrokerScenarios(broker);
