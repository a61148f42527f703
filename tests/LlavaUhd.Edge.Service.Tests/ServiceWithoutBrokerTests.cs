using System.Net;
using System.Text.Json;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Service.Http;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.DependencyInjection;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// The service as <c>Program.Build</c> composes it — the test-pattern camera, the generated tiny model, the standing
/// questions, the status and metrics — publishing through a <see cref="RecordingPublisher"/> instead of MQTT
/// (docs/architecture.md, the outbound port): no broker and no client, because the broker is not the subject here;
/// what the service's own work hands to the port is.
/// </summary>
public sealed class ServiceWithoutBrokerTests
{
    private const string DoorQuestion = "Is the door open?";
    private const string ParcelQuestion = "How many parcels?";

    private static async Task UntilAsync(Func<bool> condition, string what, double seconds = 60)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"Not within {seconds} s: {what}.");
            }

            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task StandingQuestions_TypedAnswers_ArriveThroughThePort_AndTheServiceFollowsThem()
    {
        await using ServiceHarness service = await ServiceHarness.StartWithoutBrokerAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=door", $"--Service:Questions:0:Question={DoorQuestion}",
            "--Service:Questions:0:AnswerType=yes_no", "--Service:Questions:0:IntervalSeconds=0.2",
            "--Service:Questions:1:Camera=cam0", "--Service:Questions:1:Name=parcels", $"--Service:Questions:1:Question={ParcelQuestion}",
            "--Service:Questions:1:AnswerType=number", "--Service:Questions:1:Min=0", "--Service:Questions:1:Max=6", "--Service:Questions:1:Integer=true",
            "--Service:Questions:1:IntervalSeconds=0.2");
        RecordingPublisher port = service.Recorder;
        Assert.Null(service.Services.GetService<EdgeMqttClient>());   // no client at all: nothing to connect

        await UntilAsync(() => port.Answers.Any(a => a.Answer.QuestionId == "door") && port.Answers.Any(a => a.Answer.QuestionId == "parcels"),
            "an answer to each standing question");
        await service.StopAsync();

        foreach ((AnswerMessage answer, ReplyRoute? reply) in port.Answers)
        {
            Assert.Null(reply);   // a standing question has no asker to reply to: the answer topic only
            Assert.Equal(service.DeviceId, answer.Device);
            Assert.Equal("cam0", answer.Camera);
            Assert.Equal("tiny-smolvlm", answer.Model);
            Assert.Equal(new RoiRect(0, 0, 320, 240), answer.Roi);   // the whole test-pattern frame
            Assert.True(answer.FrameTimestamp <= answer.AnswerTimestamp);
            Assert.NotNull(answer.Value);
            JsonElement value = answer.Value.Value;
            switch (answer.QuestionId)
            {
                case "door":
                    Assert.Equal(DoorQuestion, answer.Question);
                    Assert.Equal("yes_no", answer.AnswerType);
                    Assert.Contains(value.ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
                    Assert.Equal(value.GetBoolean() ? "yes" : "no", answer.Answer.Trim().ToLowerInvariant());
                    break;
                case "parcels":
                    Assert.Equal(ParcelQuestion, answer.Question);
                    Assert.Equal("number", answer.AnswerType);
                    Assert.Equal(JsonValueKind.Number, value.ValueKind);
                    Assert.True(value.TryGetInt32(out int count), $"an integer, not {value.GetRawText()}");
                    Assert.InRange(count, 0, 6);
                    break;
                default:
                    Assert.Fail($"an answer to no standing question: {answer.QuestionId}");
                    break;
            }
        }

        // The service's own followers of the port's AnswerPublished (the status page's answer log) saw the same answers.
        IReadOnlyList<AnswerMessage> logged = service.Get<AnswerLog>().Latest();
        Assert.NotEmpty(logged);
        Assert.All(logged, a => Assert.Contains(port.Answers, r => r.Answer.Id == a.Id));
        var standing = service.Get<StandingQuestionService>();
        await UntilAsync(() => standing.Published == port.Answers.Count, "the service counting each answer it published");   // counted just after publishing
        Assert.Equal(0, standing.Failed);
    }

    [Fact]
    public async Task Status_SettingStates_AndStats_ArePublishedThroughThePort()
    {
        await using ServiceHarness service = await ServiceHarness.StartWithoutBrokerAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=door", $"--Service:Questions:0:Question={DoorQuestion}",
            "--Service:Questions:0:AnswerType=yes_no", "--Service:Questions:0:IntervalSeconds=5",
            "--Mqtt:StatsIntervalSeconds=1");
        RecordingPublisher port = service.Recorder;

        // the retained status tells the camera's state: once the test pattern is live, a status says so
        await UntilAsync(() => port.Statuses.Any(s => s.Cameras.Single().State == "live"), "a status with the camera live");
        await UntilAsync(() => !port.Stats.IsEmpty, "a stats message");
        await service.StopAsync();

        StatusMessage live = port.Statuses.First(s => s.Cameras.Single().State == "live");
        Assert.Equal(service.DeviceId, live.Device);
        Assert.Equal("tiny-smolvlm", live.Model);
        CameraStatus camera = live.Cameras.Single();
        Assert.Equal("cam0", camera.Id);
        Assert.True(camera.Enabled);
        Assert.Equal(DoorQuestion, camera.Question);
        Assert.Equal(5, camera.IntervalS);

        // every setting's retained state, once each at start: what the service runs with
        SettingState[] states = [.. port.SettingStates];
        Assert.Equal(["enable", "interval", "question"], states.Select(s => s.Setting).Order(StringComparer.Ordinal));
        Assert.All(states, s => Assert.Equal("cam0", s.Camera));
        Assert.True(states.Single(s => s.Setting == "enable").Enabled);
        SettingState question = states.Single(s => s.Setting == "question");
        Assert.Equal(DoorQuestion, question.Question);
        Assert.Equal("yes_no", question.AnswerType);
        Assert.Equal(5, states.Single(s => s.Setting == "interval").IntervalS);

        StatsMessage stats = port.Stats.First();
        Assert.Equal(service.DeviceId, stats.Device);
        Assert.Equal(0, stats.QuestionsRejected);
        Assert.Empty(port.Errors);
    }

    [Fact]
    public async Task Encoder_PacketOverTheCap_IsAnErrorThroughThePort_CountedOnMetrics()
    {
        int http = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartWithoutBrokerAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=band", "--Service:Questions:0:Question=What is on the band?",
            "--Service:Questions:0:IntervalSeconds=0.3",
            "--Service:Role=encoder", "--Service:Tokens:DType=fp32", "--Service:Tokens:MaxPacketBytes=1024", $"--Http:Port={http}");
        RecordingPublisher port = service.Recorder;
        await UntilAsync(() => port.Errors.Count >= 2, "two refused packets");

        // Counted by code on /metrics through the port's ErrorPublished, as with the MQTT client.
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TimeSpan.FromSeconds(30) };
        double counted = 0;
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (counted < 2 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            using HttpResponseMessage response = await client.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            PrometheusText metrics = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            counted = metrics.Find("llava_edge_errors_total", ("code", ErrorCodes.PacketTooLarge)).Any()
                ? metrics.Value("llava_edge_errors_total", ("code", ErrorCodes.PacketTooLarge))
                : 0;
            if (counted < 2)
            {
                await Task.Delay(100);
            }
        }

        await service.StopAsync();
        TokenPublisher tokens = service.Get<TokenPublisher>();
        await UntilAsync(() => tokens.Refused == port.Errors.Count, "one error message per refused packet");   // counted just before publishing
        Assert.InRange(counted, 2, port.Errors.Count);
        Assert.All(port.Errors, e =>
        {
            Assert.Equal(ErrorCodes.PacketTooLarge, e.Error);
            Assert.Equal("cam0", e.Camera);
            Assert.Equal(port.Topics.Tokens("cam0"), e.Topic);
            Assert.Contains("Service:Tokens:MaxPacketBytes = 1024", e.Message, StringComparison.Ordinal);
        });
        Assert.Equal(port.Errors.Count, port.QuestionsRejected);
        Assert.Empty(port.TokenPackets);   // refused before it was sent
        Assert.Empty(port.Answers);        // an encoder answers nothing
        Assert.Equal(0, tokens.Published);
    }
}
