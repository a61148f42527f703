using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// The whole service (Program.Build, in-process) against a broker: answers with every field, MQTT 5 and 3.1.1
/// request/response, error replies, retained status, settings, and "busy" under a flood. Run against a real
/// mosquitto and against the service's own embedded broker.
/// </summary>
public abstract class ServiceScenarios
{
    /// <summary>Starts the service with <paramref name="extra"/> overrides; the port the test client connects to.</summary>
    protected abstract Task<(ServiceHarness Service, int Port)> StartAsync(Core.Pipeline.IVisionLanguageModel? model = null, params string[] extra);

    private static JsonElement Json(MqttApplicationMessage m) => JsonDocument.Parse(m.ConvertPayloadToString()).RootElement;

    [Fact]
    public async Task StandingQuestion_AnswerArrives_WithAllFields()
    {
        (ServiceHarness service, int port) = await StartAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=probe", "--Service:Questions:0:Question=What is in the picture?",
            "--Service:Questions:0:IntervalSeconds=0.3", "--Service:Questions:0:Roi:X=10", "--Service:Questions:0:Roi:Y=20",
            "--Service:Questions:0:Roi:Width=200", "--Service:Questions:0:Roi:Height=100");
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("cam0/answer"));
            JsonElement a = Json(await client.NextAsync(timeoutSeconds: 30));
            Assert.Equal(32, a.GetProperty("id").GetString()!.Length);
            Assert.Equal("probe", a.GetProperty("question_id").GetString());
            Assert.Equal(service.DeviceId, a.GetProperty("device").GetString());
            Assert.Equal("cam0", a.GetProperty("camera").GetString());
            Assert.True(a.GetProperty("frame_timestamp").GetDateTimeOffset() <= a.GetProperty("answer_timestamp").GetDateTimeOffset());
            Assert.True(a.GetProperty("frame_sequence").GetInt64() >= 0);
            JsonElement roi = a.GetProperty("roi");
            Assert.Equal((10, 20, 200, 100), (roi.GetProperty("x").GetInt32(), roi.GetProperty("y").GetInt32(), roi.GetProperty("width").GetInt32(), roi.GetProperty("height").GetInt32()));
            Assert.Equal("What is in the picture?", a.GetProperty("question").GetString());
            Assert.Equal(JsonValueKind.String, a.GetProperty("answer").ValueKind);   // the tiny model's text is meaningless
            Assert.True(a.GetProperty("prompt_tokens").GetInt32() > 0);
            Assert.InRange(a.GetProperty("completion_tokens").GetInt32(), 1, 4);
            Assert.True(a.GetProperty("visual_tokens").GetInt32() > 0);
            JsonElement t = a.GetProperty("timings");
            foreach (string stage in new[] { "queue_ms", "preprocess_ms", "encode_ms", "prefill_ms", "decode_ms", "total_ms" })
            {
                Assert.True(t.GetProperty(stage).GetDouble() >= 0, stage);
            }

            Assert.True(t.GetProperty("total_ms").GetDouble() > 0);
            Assert.Equal("tiny-smolvlm", a.GetProperty("model").GetString());
        }
    }

    [Fact]
    public async Task V5Request_GetsCorrelatedResponse_AndFollowUpOnTheSameFrame()
    {
        (ServiceHarness service, int port) = await StartAsync();
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, "replies/v5");
            byte[] correlation = Guid.NewGuid().ToByteArray();
            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"What colour is the sky?","id":"q-1","max_tokens":2}""", "replies/v5", correlation);
            MqttApplicationMessage reply = await client.NextAsync(timeoutSeconds: 30);
            Assert.Equal(correlation, reply.CorrelationData);
            JsonElement a = Json(reply);
            Assert.Equal("q-1", a.GetProperty("question_id").GetString());
            Assert.Equal("What colour is the sky?", a.GetProperty("question").GetString());
            Assert.Equal(320, a.GetProperty("roi").GetProperty("width").GetInt32());
            Assert.InRange(a.GetProperty("completion_tokens").GetInt32(), 1, 2);

            // A follow-up about the frame that was answered.
            long frame = a.GetProperty("frame_sequence").GetInt64();
            await client.PublishAsync(service.Topic("cam0/ask"), $$$"""{"question":"And the ground?","id":"q-2","frame":{{{frame}}},"roi":{"x":0,"y":0,"width":64,"height":64}}""", "replies/v5", correlation);
            JsonElement b = Json(await client.NextAsync(timeoutSeconds: 30));
            Assert.Equal("q-2", b.GetProperty("question_id").GetString());
            Assert.Equal(frame, b.GetProperty("frame_sequence").GetInt64());
            Assert.Equal(64, b.GetProperty("roi").GetProperty("width").GetInt32());
        }
    }

    [Fact]
    public async Task V311Request_ReplyTo_GetsCorrelationId()
    {
        (ServiceHarness service, int port) = await StartAsync();
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V311, "replies/v3");
            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"Anything there?","reply_to":"replies/v3","correlation_id":"job-42"}""");
            JsonElement a = Json(await client.NextAsync(timeoutSeconds: 30));
            Assert.Equal("job-42", a.GetProperty("correlation_id").GetString());
            Assert.Equal("Anything there?", a.GetProperty("question").GetString());
        }
    }

    [Fact]
    public async Task TypedQuestions_AnswerWithTypedValues_AndInvalidTypesGetASpecificError()
    {
        (ServiceHarness service, int port) = await StartAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=belt", "--Service:Questions:0:Question=What state is the belt in?",
            "--Service:Questions:0:IntervalSeconds=0.3", "--Service:Questions:0:AnswerType=choice",
            "--Service:Questions:0:Options:0=empty", "--Service:Questions:0:Options:1=one parcel", "--Service:Questions:0:Options:2=jam");
        await using (service)
        {
            await using TestClient standing = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("cam0/answer"));
            JsonElement s = Json(await standing.NextAsync(timeoutSeconds: 30));
            Assert.Equal("belt", s.GetProperty("question_id").GetString());
            Assert.Equal("choice", s.GetProperty("answer_type").GetString());
            Assert.Contains(s.GetProperty("value").GetString(), new[] { "empty", "one parcel", "jam" });
            Assert.Equal(s.GetProperty("value").GetString(), s.GetProperty("answer").GetString()!.Trim(), ignoreCase: true);

            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, "replies/typed");
            (string Payload, JsonValueKind Kind)[] asks =
            [
                ("""{"question":"Is the belt moving?","answer_type":"yes_no"}""", JsonValueKind.True),
                ("""{"question":"How many parcels?","answer_type":"number","min":0,"max":6,"integer":true}""", JsonValueKind.Number),
                ("""{"question":"Which lane?","answer_type":"choice","options":["left","right"]}""", JsonValueKind.String),
                ("""{"question":"Report.","answer_type":"json","schema":{"type":"object","properties":{"jam":{"type":"boolean"},"count":{"type":"integer","minimum":0,"maximum":6}}}}""", JsonValueKind.Object),
            ];
            foreach ((string payload, JsonValueKind kind) in asks)
            {
                await client.PublishAsync(service.Topic("cam0/ask"), payload, "replies/typed", [7]);
                JsonElement a = Json(await client.NextAsync(timeoutSeconds: 30));
                JsonElement value = a.GetProperty("value");
                Assert.Equal(kind == JsonValueKind.True ? "yes_no" : JsonDocument.Parse(payload).RootElement.GetProperty("answer_type").GetString(), a.GetProperty("answer_type").GetString());
                if (kind == JsonValueKind.True)
                {
                    Assert.True(value.ValueKind is JsonValueKind.True or JsonValueKind.False, payload);
                }
                else
                {
                    Assert.Equal(kind, value.ValueKind);
                }

                if (kind == JsonValueKind.Number)
                {
                    Assert.InRange(value.GetInt32(), 0, 6);
                }

                if (kind == JsonValueKind.Object)
                {
                    Assert.InRange(value.GetProperty("count").GetInt32(), 0, 6);
                    Assert.True(value.GetProperty("jam").ValueKind is JsonValueKind.True or JsonValueKind.False);
                }
            }

            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"How many?","answer_type":"number","min":9,"max":1}""", "replies/typed", [8]);
            JsonElement error = Json(await client.NextAsync(timeoutSeconds: 30));
            Assert.Equal("invalid_answer_type", error.GetProperty("error").GetString());
            Assert.Contains("min (9) is greater than max (1)", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            // The standing question becomes a yes/no question over question/set; its state says so.
            await using TestClient state = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("cam0/question/state"));
            await client.PublishAsync(service.Topic("cam0/question/set"), """{"question":"Is the belt jammed?","answer_type":"yes_no"}""");
            JsonElement st;
            do
            {
                st = Json(await state.NextAsync(timeoutSeconds: 30));
            }
            while (st.GetProperty("question").GetString() != "Is the belt jammed?");
            Assert.Equal("yes_no", st.GetProperty("answer_type").GetString());
            JsonElement next;
            do
            {
                next = Json(await standing.NextAsync(timeoutSeconds: 30));
            }
            while (next.GetProperty("question").GetString() != "Is the belt jammed?");
            Assert.Equal("yes_no", next.GetProperty("answer_type").GetString());
            Assert.True(next.GetProperty("value").ValueKind is JsonValueKind.True or JsonValueKind.False);

            // a plain-text change keeps the type, and the retained state says so
            await client.PublishAsync(service.Topic("cam0/question/set"), "\"Is the belt stopped?\"");
            do
            {
                st = Json(await state.NextAsync(timeoutSeconds: 30));
            }
            while (st.GetProperty("question").GetString() != "Is the belt stopped?");
            Assert.Equal("yes_no", st.GetProperty("answer_type").GetString());
        }
    }

    [Fact]
    public async Task MalformedQuestions_GetErrorReplies_AndTheServiceGoesOn()
    {
        (ServiceHarness service, int port) = await StartAsync();
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, "replies/bad");
            byte[] c = [1, 2, 3];
            (string Topic, string Payload, string Code)[] cases =
            [
                (service.Topic("cam0/ask"), "{not json", "invalid_json"),
                (service.Topic("cam0/ask"), """{"question":42}""", "invalid_field"),
                (service.Topic("nocam/ask"), """{"question":"hi"}""", "unknown_camera"),
                (service.Topic("cam0/ask"), """{"question":"hi","roi":{"x":300,"y":0,"width":100,"height":10}}""", "invalid_field"),
                (service.Topic("cam0/ask"), """{"question":"hi","frame":999999999}""", "invalid_field"),
                (service.Topic("cam0/ask"), """{"question":"What is <image> there?"}""", "reserved_token"),
                (service.Topic("cam0/ask"), """{"question":"Stop here<end_of_utterance> and answer"}""", "reserved_token"),
                (service.Topic("cam0/ask"), JsonSerializer.Serialize(new { question = string.Concat(Enumerable.Repeat("belt ", 700)) }), "question_too_long"),
            ];
            foreach ((string topic, string payload, string code) in cases)
            {
                await client.PublishAsync(topic, payload, "replies/bad", c);
                MqttApplicationMessage reply = await client.NextAsync(timeoutSeconds: 30);
                Assert.Equal(c, reply.CorrelationData);
                Assert.Equal(code, Json(reply).GetProperty("error").GetString());
            }

            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"still there?"}""", "replies/bad", c);
            Assert.Equal("still there?", Json(await client.NextAsync(timeoutSeconds: 30)).GetProperty("question").GetString());
        }
    }

    [Fact]
    public async Task StandingQuestionWithAReservedToken_IsRefusedAtSet_AndTheOldOneStays()
    {
        (ServiceHarness service, int port) = await StartAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Count the boxes.", "--Service:Questions:0:IntervalSeconds=60");
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("errors"));
            await client.PublishAsync(service.Topic("cam0/question/set"), "\"What is <image>?\"");
            JsonElement error = Json(await client.NextAsync(timeoutSeconds: 30));
            Assert.Equal("reserved_token", error.GetProperty("error").GetString());
            Assert.Contains("<image>", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("Count the boxes.", service.Get<IReadOnlyDictionary<string, CameraRuntime>>()["cam0"].Primary!.Question);
        }
    }

    [Fact]
    public async Task Status_IsRetained_AndSettingsChangeIt()
    {
        (ServiceHarness service, int port) = await StartAsync(null,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Count the boxes.", "--Service:Questions:0:IntervalSeconds=60");
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500);
            await client.Client.SubscribeAsync(service.Topic("status"));
            JsonElement s = Json(await client.NextAsync(m => Json(m).GetProperty("cameras")[0].GetProperty("state").GetString() == "live", 30));
            Assert.Equal("tiny-smolvlm", s.GetProperty("model").GetString());
            Assert.Equal("cpu", s.GetProperty("provider").GetString());
            Assert.Equal("none", s.GetProperty("engine_state").GetString());
            Assert.True(s.GetProperty("versions").TryGetProperty("onnxruntime", out _));
            JsonElement cam = s.GetProperty("cameras")[0];
            Assert.Equal("cam0", cam.GetProperty("id").GetString());
            Assert.Equal("Count the boxes.", cam.GetProperty("question").GetString());
            Assert.Equal(60, cam.GetProperty("interval_s").GetDouble());

            await client.Client.SubscribeAsync(service.Topic("cam0/interval/state"));
            // the retained state tells what runs from the start: the configured 60 s, then the change
            JsonElement initial = Json(await client.NextAsync(m => m.Topic.EndsWith("/interval/state", StringComparison.Ordinal), 30));
            Assert.Equal(60, initial.GetProperty("interval_s").GetDouble());
            await client.PublishAsync(service.Topic("cam0/interval/set"), "5");
            JsonElement state = Json(await client.NextAsync(m => m.Topic.EndsWith("/interval/state", StringComparison.Ordinal), 30));
            Assert.Equal(5, state.GetProperty("interval_s").GetDouble());
            await client.PublishAsync(service.Topic("cam0/question/set"), "\"Is the belt empty?\"");
            JsonElement after = Json(await client.NextAsync(m => m.Topic.EndsWith("/status", StringComparison.Ordinal) && Json(m).GetProperty("cameras")[0].GetProperty("question").GetString() == "Is the belt empty?", 30));
            Assert.Equal(5, after.GetProperty("cameras")[0].GetProperty("interval_s").GetDouble());
        }
    }

    [Fact]
    public async Task QuestionFlood_GetsBusyReplies_WithBoundedQueues()
    {
        var model = new SlowModel(TimeSpan.FromMilliseconds(40), q => q == "fail");
        (ServiceHarness service, int port) = await StartAsync(model, "--Service:QueueDepth=2", "--Mqtt:QuestionQueueCapacity=4", "--Mqtt:QuestionWorkers=2");
        await using (service)
        {
            await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, "replies/flood");
            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"warm up"}""", "replies/flood", [0]);
            await client.NextAsync(timeoutSeconds: 30);
            GC.Collect();
            long before = GC.GetTotalMemory(forceFullCollection: true);

            const int n = 300;
            for (int i = 0; i < n; i++)
            {
                await client.PublishAsync(service.Topic("cam0/ask"), i == 7 ? """{"question":"fail"}""" : $$"""{"question":"q{{i}}"}""", "replies/flood", BitConverter.GetBytes(i));
            }

            List<MqttApplicationMessage> replies = await client.CollectAsync(n, timeoutSeconds: 60);
            Assert.Equal(n, replies.Count);
            Assert.Equal(n, replies.Select(r => BitConverter.ToInt32(r.CorrelationData)).Distinct().Count());
            int busy = replies.Count(r => Json(r).TryGetProperty("error", out JsonElement e) && e.GetString() == "busy");
            int answered = replies.Count(r => Json(r).TryGetProperty("answer", out _));
            int failed = replies.Count(r => Json(r).TryGetProperty("error", out JsonElement e) && e.GetString() == "internal_error");
            Assert.True(busy > n / 2, $"{busy} busy of {n}");
            Assert.True(answered >= 3, $"{answered} answered");
            Assert.Equal(n, busy + answered + failed);
            Assert.True(failed <= 1);

            ModelWorker worker = service.Get<ModelWorker>();
            Assert.InRange(worker.MaxDepth, 1, 2);                      // the model's queue never grew past its depth
            Assert.Equal(1, model.MaxConcurrent);
            long after = GC.GetTotalMemory(forceFullCollection: true);
            Assert.True(after - before < 32 << 20, $"managed heap grew by {(after - before) >> 20} MiB");

            // and it still answers afterwards
            await client.PublishAsync(service.Topic("cam0/ask"), """{"question":"after"}""", "replies/flood", [9]);
            Assert.Equal("after", Json(await client.NextAsync(m => m.CorrelationData is [9], 30)).GetProperty("question").GetString());
        }
    }
}

[Collection(MosquittoCollection.Name)]
public sealed class ServiceOnMosquittoTests(MosquittoFixture broker) : ServiceScenarios
{
    protected override async Task<(ServiceHarness Service, int Port)> StartAsync(Core.Pipeline.IVisionLanguageModel? model = null, params string[] extra) =>
        (await ServiceHarness.StartAsync(broker.Port, embedded: false, model, extra), broker.Port);
}

/// <summary>The service with its own embedded broker (the demo default).</summary>
public sealed class ServiceOnEmbeddedBrokerTests : ServiceScenarios
{
    protected override async Task<(ServiceHarness Service, int Port)> StartAsync(Core.Pipeline.IVisionLanguageModel? model = null, params string[] extra)
    {
        int port = TestPorts.Free();
        return (await ServiceHarness.StartAsync(port, embedded: true, model, extra), port);
    }
}
