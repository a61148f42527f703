using System.Buffers;
using System.Globalization;
using System.Text.Json;
using LlavaUhd.Edge.Messaging.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Messaging.Tests;

/// <summary>Scenarios that need a broker of their own: an outage (stop and restart), a fleet on shared subscriptions.</summary>
public sealed class MosquittoOnlyTests
{
    [Fact]
    public async Task BrokerOutage_AnswersProducedWhileDown_ArriveAfterRestart_InOrder_NoneLost()
    {
        await using var broker = new MosquittoProcess();
        await broker.StartAsync();
        var options = TestDevice.NewOptions(broker.Port);
        options.ReconnectMinDelayMs = 300; // the robot must be back and subscribed before the device reconnects
        options.ReconnectMaxDelayMs = 600;
        await using TestDevice device = await TestDevice.StartAsync(options);
        string deviceId = options.DeviceId;
        const int Before = 20, During = 40, After = 20;
        var seen = new List<int>();
        var gotAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // mosquitto runs without persistence: the robot re-subscribes after the restart, before the device's back-off ends.
        await using TestClient robot = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, device.Topics.Answer("cam1"));
        robot.Client.ApplicationMessageReceivedAsync += e =>
        {
            int n = int.Parse(JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.GetProperty("answer").GetString()!, CultureInfo.InvariantCulture);
            lock (seen)
            {
                seen.Add(n);
                if (seen.Distinct().Count() == Before + During + After)
                {
                    gotAll.TrySetResult();
                }
            }

            return Task.CompletedTask;
        };

        int next = 0;
        for (; next < Before; next++)
        {
            device.Client.PublishAnswer(BrokerScenarios.Answer(deviceId, "cam1", next));
        }

        await BrokerScenarios.WaitUntilAsync(() => device.Outbox.PendingCount == 0);
        await broker.StopAsync();
        await BrokerScenarios.WaitUntilAsync(() => !device.Client.IsConnected);

        for (; next < Before + During; next++)
        {
            device.Client.PublishAnswer(BrokerScenarios.Answer(deviceId, "cam1", next));
        }

        Assert.Equal(During, device.Outbox.PendingCount);
        await broker.StartAsync();

        await robot.Client.ReconnectAsync();
        await robot.Client.SubscribeAsync(device.Topics.Answer("cam1"), MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(During, device.Outbox.PendingCount); // nothing drained into the void before the robot was back
        await device.Client.WaitConnectedAsync().WaitAsync(TimeSpan.FromSeconds(10));
        for (; next < Before + During + After; next++)
        {
            device.Client.PublishAnswer(BrokerScenarios.Answer(deviceId, "cam1", next));
        }

        await gotAll.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await BrokerScenarios.WaitUntilAsync(() => device.Outbox.PendingCount == 0);
        lock (seen)
        {
            // In order: the first occurrences are 0..N-1 ascending; a duplicate can only be a re-send of an unacknowledged one.
            List<int> firsts = seen.Distinct().ToList();
            Assert.Equal(Enumerable.Range(0, Before + During + After), firsts);
            Assert.True(seen.Count - firsts.Count <= 1, $"{seen.Count - firsts.Count} duplicates");
        }

        Assert.True(device.Client.ConnectCount >= 2);
    }

    [Fact]
    public async Task SharedSubscription_FleetSplitsOneQuestionStream()
    {
        await using var broker = new MosquittoProcess();
        await broker.StartAsync();
        var a = TestDevice.NewOptions(broker.Port);
        var b = TestDevice.NewOptions(broker.Port);
        a.SharedSubscriptionGroup = b.SharedSubscriptionGroup = "fleet";
        await using TestDevice deviceA = await TestDevice.StartAsync(a);
        await using TestDevice deviceB = await TestDevice.StartAsync(b);
        string replyTopic = "robots/pool/replies";
        await using TestClient robot = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, replyTopic);
        const int N = 40;

        for (int i = 0; i < N; i++)
        {
            await robot.PublishAsync(deviceA.Topics.SharedAsk("cam1"), $$"""{"question":"q{{i}}","id":"{{i}}"}""", replyTopic, [(byte)i]);
        }

        List<MqttApplicationMessage> replies = await robot.CollectAsync(N);
        Assert.Equal(N, replies.Count);
        Assert.Equal(N, replies.Select(r => r.CorrelationData![0]).Distinct().Count());
        Assert.Empty(await robot.CollectAsync(1, timeoutSeconds: 0.3)); // each question went to one device only
        // a device counts an answer just after storing it, so on a busy machine its reply may arrive first
        await BrokerScenarios.WaitUntilAsync(() => deviceA.Client.QuestionsAnswered + deviceB.Client.QuestionsAnswered >= N);
        Assert.Equal(N, deviceA.Client.QuestionsAnswered + deviceB.Client.QuestionsAnswered);
        Assert.True(deviceA.Client.QuestionsAnswered > 0 && deviceB.Client.QuestionsAnswered > 0,
            $"split {deviceA.Client.QuestionsAnswered}/{deviceB.Client.QuestionsAnswered}");
    }
}
