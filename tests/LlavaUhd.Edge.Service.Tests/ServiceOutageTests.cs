using System.Text.Json;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>The whole service through a broker outage: standing answers made while it is down arrive after it is back, none lost.</summary>
public sealed class ServiceOutageTests
{
    private static async Task WaitUntilAsync(Func<bool> condition, double seconds = 20)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (!condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }

    [Fact]
    public async Task BrokerOutage_AnswersMadeWhileDown_ArriveAfterRestart_NoneLost()
    {
        // The robot's session lives in the broker's persistence across the restart (a graceful stop saves it): answers
        // the device drains before the robot is back are queued for it, not published to nobody.
        await using var broker = new MosquittoProcess(null, null, persistent: true);
        await broker.StartAsync();
        string device = "outage-" + Guid.NewGuid().ToString("N")[..8];
        string topic = $"llavauhd/{device}/cam0/answer";
        var ids = new List<string>();
        await using TestClient robot = await TestClient.ConnectPersistentAsync(broker.Port, topic);
        robot.Client.ApplicationMessageReceivedAsync += e =>
        {
            string id = JsonDocument.Parse(e.ApplicationMessage.ConvertPayloadToString()).RootElement.GetProperty("id").GetString()!;
            lock (ids)
            {
                ids.Add(id);
            }

            return Task.CompletedTask;
        };

        await using ServiceHarness service = await ServiceHarness.StartAsync(broker.Port, embedded: false, new SlowModel(TimeSpan.Zero), [
            $"--Mqtt:DeviceId={device}", "--Mqtt:ReconnectMinDelayMs=2000", "--Mqtt:ReconnectMaxDelayMs=3000",
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Anything?", "--Service:Questions:0:IntervalSeconds=0.05"]);
        var standing = service.Get<StandingQuestionService>();
        var mqtt = service.Get<EdgeMqttClient>();
        var outbox = service.Get<AnswerOutbox>();

        await WaitUntilAsync(() => standing.Published >= 5);
        await broker.StopGracefullyAsync();
        await WaitUntilAsync(() => !mqtt.IsConnected);
        await WaitUntilAsync(() => outbox.PendingCount >= 10);          // answers made while the broker is down wait in the outbox

        await broker.StartAsync();
        await robot.Client.ReconnectAsync();
        await mqtt.WaitConnectedAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(300);
        service.Get<IReadOnlyDictionary<string, CameraRuntime>>()["cam0"].Enabled = false;   // no new answers from here on
        await Task.Delay(200);
        await WaitUntilAsync(() => outbox.PendingCount == 0);
        long published = standing.Published;
        await WaitUntilAsync(() => { lock (ids) { return ids.Distinct().Count() >= published; } });

        lock (ids)
        {
            // Everything made arrived; answers published just before the stop may come twice (QoS 1 re-send), never more.
            Assert.Equal(published, ids.Distinct().LongCount());
            Assert.True(ids.Count - published <= 2, $"{ids.Count - published} duplicates");
        }
    }

    [Fact]
    public async Task NormalStop_DuringAnOutage_DeliversTheOutbox_WhenTheBrokerIsBackInTime()
    {
        // The robot's session lives in the broker's persistence across the restart (a graceful stop saves it): answers
        // the device drains before the robot is back are queued for it, not published to nobody.
        await using var broker = new MosquittoProcess(null, null, persistent: true);
        await broker.StartAsync();
        string device = "drain-" + Guid.NewGuid().ToString("N")[..8];
        string topic = $"llavauhd/{device}/cam0/answer";
        var ids = new List<string>();
        await using TestClient robot = await TestClient.ConnectPersistentAsync(broker.Port, topic);
        robot.Client.ApplicationMessageReceivedAsync += e =>
        {
            lock (ids)
            {
                ids.Add(JsonDocument.Parse(e.ApplicationMessage.ConvertPayloadToString()).RootElement.GetProperty("id").GetString()!);
            }

            return Task.CompletedTask;
        };

        ServiceHarness service = await ServiceHarness.StartAsync(broker.Port, embedded: false, new SlowModel(TimeSpan.Zero), [
            $"--Mqtt:DeviceId={device}", "--Mqtt:ReconnectMinDelayMs=2000", "--Mqtt:ReconnectMaxDelayMs=3000", "--Service:ShutdownDrainSeconds=30",
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Anything?", "--Service:Questions:0:IntervalSeconds=0.05"]);
        await using (service)
        {
            var standing = service.Get<StandingQuestionService>();
            var mqtt = service.Get<EdgeMqttClient>();
            var outbox = service.Get<AnswerOutbox>();
            await WaitUntilAsync(() => standing.Published >= 3);
            await broker.StopGracefullyAsync();
            await WaitUntilAsync(() => !mqtt.IsConnected);
            await WaitUntilAsync(() => outbox.PendingCount >= 5);
            service.Get<IReadOnlyDictionary<string, CameraRuntime>>()["cam0"].Enabled = false;   // no new answers from here on
            await Task.Delay(200);
            long published = standing.Published;
            Assert.True(outbox.PendingCount > 0);

            Task stopping = service.StopAsync();   // a normal stop while the broker is away
            await Task.Delay(500);
            Assert.False(stopping.IsCompleted, "the stop did not wait for the outbox");
            await broker.StartAsync();
            await robot.Client.ReconnectAsync();
            await stopping.WaitAsync(TimeSpan.FromSeconds(40));

            Assert.Equal(0, outbox.PendingCount);
            await WaitUntilAsync(() => { lock (ids) { return ids.Distinct().Count() >= published; } });
            lock (ids)
            {
                Assert.Equal(published, ids.Distinct().LongCount());
            }
        }
    }
}

/// <summary>The persistent session: questions sent while the service is away are answered when it is back.</summary>
[Collection(MosquittoCollection.Name)]
public sealed class PersistentSessionTests(MosquittoFixture broker)
{
    [Fact]
    public async Task AsksSentWhileTheServiceRestarts_AreAnsweredWhenItIsBack()
    {
        string device = "persist-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient asker = await TestClient.ConnectAsync(broker.Port, MQTTnet.Formatter.MqttProtocolVersion.V500, "replies/persist");
        ServiceHarness first = await ServiceHarness.StartAsDeviceAsync(device, broker.Port, false, null, true);
        await first.DisposeAsync();   // a normal stop: the broker keeps the session (clean start off, expiry 1 day)

        const int n = 5;
        for (int i = 0; i < n; i++)
        {
            await asker.PublishAsync($"llavauhd/{device}/cam0/ask", $$"""{"question":"while away {{i}}"}""", "replies/persist", [(byte)i]);
        }

        await using ServiceHarness second = await ServiceHarness.StartAsDeviceAsync(device, broker.Port, false, null, true);
        List<MQTTnet.MqttApplicationMessage> replies = await asker.CollectAsync(n, timeoutSeconds: 60);
        Assert.Equal(n, replies.Count);
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"while away {i}").Order(), replies.Select(r => System.Text.Json.JsonDocument.Parse(r.ConvertPayloadToString()).RootElement.GetProperty("question").GetString()).Order());
    }

    [Fact]
    public async Task SettingsMadeOverMqtt_SurviveARestart_AndTheRetainedStateTellsTheTruth()
    {
        string device = "settings-" + Guid.NewGuid().ToString("N")[..8];
        string outbox = Directory.CreateTempSubdirectory("llava-settings-").FullName;
        string[] args = [$"--Mqtt:Outbox:Directory={outbox}", "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Count the boxes.", "--Service:Questions:0:IntervalSeconds=60"];
        await using (ServiceHarness first = await ServiceHarness.StartAsDeviceAsync(device, broker.Port, false, null, true, args))
        {
            await using TestClient client = await TestClient.ConnectAsync(broker.Port, MQTTnet.Formatter.MqttProtocolVersion.V500, $"llavauhd/{device}/cam0/+/state");
            await client.PublishAsync($"llavauhd/{device}/cam0/question/set", """{"question": "Is the belt empty?", "answer_type": "yes_no"}""");
            await client.PublishAsync($"llavauhd/{device}/cam0/interval/set", "7");
            await client.PublishAsync($"llavauhd/{device}/cam0/enable/set", "false");
            await client.NextAsync(m => m.Topic.EndsWith("/enable/state", StringComparison.Ordinal) && m.ConvertPayloadToString().Contains("false", StringComparison.Ordinal), 30);
        }

        await using ServiceHarness second = await ServiceHarness.StartAsDeviceAsync(device, broker.Port, false, null, true, args);
        CameraRuntime cam0 = second.Get<IReadOnlyDictionary<string, CameraRuntime>>()["cam0"];
        Assert.Equal("Is the belt empty?", cam0.Primary!.Question);
        Assert.Equal("yes_no", cam0.Primary.AnswerType?.Name);   // a type set over MQTT survives the restart too
        Assert.Equal(7, cam0.Primary.IntervalSeconds);
        Assert.False(cam0.Enabled);

        // a newcomer reads the retained state: what the restarted service runs with
        await using TestClient reader = await TestClient.ConnectAsync(broker.Port, MQTTnet.Formatter.MqttProtocolVersion.V500, $"llavauhd/{device}/cam0/question/state");
        System.Text.Json.JsonElement state = System.Text.Json.JsonDocument.Parse((await reader.NextAsync(timeoutSeconds: 30)).ConvertPayloadToString()).RootElement;
        Assert.Equal("Is the belt empty?", state.GetProperty("question").GetString());
        Assert.Equal("yes_no", state.GetProperty("answer_type").GetString());
        Directory.Delete(outbox, recursive: true);
    }
}
