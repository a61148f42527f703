using System.Buffers;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// Split inference over a real mosquitto: an <c>encoder</c> service (test-pattern camera, interval question)
/// publishes token packets, a <c>decoder</c> service (no camera) answers MQTT questions from them, exactly as a
/// <c>full</c> service answers the same question about the same pixels; packets of another encoder and garbage are
/// refused with error messages, and the decoder goes on.
/// </summary>
[Collection(MosquittoCollection.Name)]
public sealed class SplitInferenceTests(MosquittoFixture broker)
{
    private const string Question = "What is in the picture?";

    // The test pattern's moving square stays in rows 105–135 of the 320×240 frame: the band above is the same in every
    // frame, so the full service and the encoder see the same pixels whatever frame they take. AnswerType is emptied:
    // the embedded defaults' standing question is a typed number, and the decoder answers the same question as free text.
    private static readonly string[] s_standing =
    [
        "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=band", $"--Service:Questions:0:Question={Question}",
        "--Service:Questions:0:AnswerType=",
        "--Service:Questions:0:IntervalSeconds=0.5", "--Service:Questions:0:Roi:X=0", "--Service:Questions:0:Roi:Y=0",
        "--Service:Questions:0:Roi:Width=320", "--Service:Questions:0:Roi:Height=96",
    ];

    private static JsonElement Json(MqttApplicationMessage m) => JsonDocument.Parse(m.ConvertPayloadToString()).RootElement;

    private static string? Property(MqttApplicationMessage m, string name) =>
        m.UserProperties?.FirstOrDefault(p => p.Name == name) is { } p ? Encoding.UTF8.GetString(p.ValueBuffer.Span) : null;

    [Fact]
    public async Task Encoder_PublishesPackets_Decoder_AnswersLikeFull_AndRefusesForeignAndBrokenPackets()
    {
        await using ServiceHarness full = await ServiceHarness.StartAsync(broker.Port, embedded: false, null, [.. s_standing]);
        await using ServiceHarness encoder = await ServiceHarness.StartAsync(broker.Port, embedded: false, null,
            [.. s_standing, "--Service:Role=encoder", "--Service:Tokens:DType=fp16", "--Service:Tokens:PerCamera:cam0:DType=fp32"]);
        // A decoder's own config file: no Capture section, no standing questions (the demo defaults would bring a camera).
        string config = Path.Combine(Directory.CreateTempSubdirectory("llava-decoder-").FullName, "decoder.json");
        await File.WriteAllTextAsync(config, """{ "Service": { "Role": "decoder", "Tokens": { "Cameras": [ "cam0" ] } } }""");
        await using ServiceHarness decoder = await ServiceHarness.StartAsync(broker.Port, embedded: false, null, camera: false,
            "--config", config, $"--Service:Tokens:SourceDevice={encoder.DeviceId}");
        await using TestClient client = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500,
            full.Topic("cam0/answer"), encoder.Topic("cam0/tokens"), decoder.Topic("errors"), "split/replies");

        // The full service's answer about the band.
        JsonElement fullAnswer = Json(await client.NextAsync(m => m.Topic == full.Topic("cam0/answer"), timeoutSeconds: 60));

        // The encoder's packet: binary, its content type and user properties, fp32 for cam0 (the per-camera override).
        MqttApplicationMessage tokens = await client.NextAsync(m => m.Topic == encoder.Topic("cam0/tokens"), timeoutSeconds: 60);
        Assert.Equal(TokenPacketCodec.ContentType, tokens.ContentType);
        Assert.Equal("tiny-smolvlm", Property(tokens, "model"));
        Assert.Equal("fp32", Property(tokens, "dtype"));
        Assert.Equal("band", Property(tokens, "origin"));
        byte[] bytes = tokens.Payload.ToArray();
        TokenPacket packet = TokenPacketCodec.Decode(bytes);
        Assert.Equal(TokenDType.Float32, packet.WireDType);
        Assert.Equal("cam0", packet.Source.Camera);
        Assert.Equal(96, packet.Source.Roi.Height);
        Assert.Equal(packet.TokenCount.ToString(System.Globalization.CultureInfo.InvariantCulture), Property(tokens, "tokens"));
        Assert.Equal(packet.Source.FrameSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Property(tokens, "frame_sequence"));
        Assert.Empty(await NoAnswerAsync(encoder));

        // The decoder answers a question on its own …/cam0/ask from the latest tokens.
        TokenStore store = decoder.Get<TokenStore>();
        await WaitUntilAsync(() => store.Latest("cam0") is not null, TimeSpan.FromSeconds(30));
        byte[] correlation = [7, 7];
        await client.PublishAsync(decoder.Topic("cam0/ask"), $$"""{"question":"{{Question}}","id":"split-1"}""", "split/replies", correlation);
        MqttApplicationMessage reply = await client.NextAsync(m => m.Topic == "split/replies", timeoutSeconds: 60);
        Assert.Equal(correlation, reply.CorrelationData);
        JsonElement a = Json(reply);
        Assert.Equal(32, a.GetProperty("id").GetString()!.Length);
        Assert.Equal("split-1", a.GetProperty("question_id").GetString());
        Assert.Equal(decoder.DeviceId, a.GetProperty("device").GetString());
        Assert.Equal("cam0", a.GetProperty("camera").GetString());
        Assert.True(a.GetProperty("frame_sequence").GetInt64() >= packet.Source.FrameSequence);
        Assert.True(a.GetProperty("frame_timestamp").GetDateTimeOffset() <= a.GetProperty("answer_timestamp").GetDateTimeOffset());
        JsonElement roi = a.GetProperty("roi");
        Assert.Equal((0, 0, 320, 96), (roi.GetProperty("x").GetInt32(), roi.GetProperty("y").GetInt32(), roi.GetProperty("width").GetInt32(), roi.GetProperty("height").GetInt32()));
        Assert.Equal(Question, a.GetProperty("question").GetString());
        Assert.Equal("tiny-smolvlm", a.GetProperty("model").GetString());
        foreach (string stage in new[] { "queue_ms", "preprocess_ms", "encode_ms", "prefill_ms", "decode_ms", "total_ms" })
        {
            Assert.True(a.GetProperty("timings").GetProperty(stage).GetDouble() >= 0, stage);
        }

        // Same model, greedy, fp32 tokens of the same pixels: exactly the full service's answer.
        Assert.Equal(fullAnswer.GetProperty("answer").GetString(), a.GetProperty("answer").GetString());
        Assert.Equal(fullAnswer.GetProperty("prompt_tokens").GetInt32(), a.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(fullAnswer.GetProperty("completion_tokens").GetInt32(), a.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(fullAnswer.GetProperty("visual_tokens").GetInt32(), a.GetProperty("visual_tokens").GetInt32());

        // A packet from another vision encoder (same shape, another weights hash) is refused with an error message.
        await encoder.StopAsync();   // no more genuine packets from here on
        long acceptedBefore = store.Received;
        byte[] hash = [.. packet.Encoder.WeightsHash];
        hash[0] ^= 0xFF;
        var foreign = new TokenPacket(new EncoderIdentity("tiny-minicpmv", [.. hash]), packet.Slicing, packet.Original, packet.Views,
            packet.Source with { FrameTime = DateTimeOffset.UtcNow, FrameSequence = 999_999 }, packet.Width, packet.Features);
        await client.PublishAsync(encoder.Topic("cam0/tokens"), TokenPacketCodec.Encode(foreign, TokenDType.Int8, brotli: true));
        JsonElement mismatch = Json(await client.NextAsync(m => m.Topic == decoder.Topic("errors"), timeoutSeconds: 30));
        Assert.Equal("encoder_mismatch", mismatch.GetProperty("error").GetString());
        Assert.Equal("cam0", mismatch.GetProperty("camera").GetString());
        Assert.Contains("encoder", mismatch.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);

        // Garbage, a truncated packet and a flipped bit: each refused as invalid_packet.
        byte[] flipped = [.. bytes];
        flipped[bytes.Length / 2] ^= 0x10;
        foreach (byte[] bad in new[] { Encoding.UTF8.GetBytes("not a packet"), bytes[..(bytes.Length / 3)], flipped, Array.Empty<byte>() })
        {
            await client.PublishAsync(encoder.Topic("cam0/tokens"), bad);
            JsonElement e = Json(await client.NextAsync(m => m.Topic == decoder.Topic("errors"), timeoutSeconds: 30));
            Assert.Equal("invalid_packet", e.GetProperty("error").GetString());
        }

        Assert.Equal(acceptedBefore, store.Received);
        Assert.Equal(5, store.Refused);

        // The decoder still answers from the last genuine tokens.
        await client.PublishAsync(decoder.Topic("cam0/ask"), $$"""{"question":"{{Question}}","id":"split-2"}""", "split/replies", correlation);
        JsonElement again = Json(await client.NextAsync(m => m.Topic == "split/replies", timeoutSeconds: 60));
        Assert.Equal("split-2", again.GetProperty("question_id").GetString());
        Assert.Equal(fullAnswer.GetProperty("answer").GetString(), again.GetProperty("answer").GetString());
        Assert.NotEqual(999_999, again.GetProperty("frame_sequence").GetInt64());
    }

    [Fact]
    public async Task Encoder_PacketOverTheCap_IsAnErrorMessage_NotACrash()
    {
        await using ServiceHarness encoder = await ServiceHarness.StartAsync(broker.Port, embedded: false, null,
            [.. s_standing, "--Service:Role=encoder", "--Service:Tokens:DType=fp32", "--Service:Tokens:MaxPacketBytes=1024"]);
        await using TestClient client = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, encoder.Topic("errors"), encoder.Topic("cam0/tokens"));
        MqttApplicationMessage m = await client.NextAsync(timeoutSeconds: 60);
        Assert.Equal(encoder.Topic("errors"), m.Topic);
        JsonElement e = Json(m);
        Assert.Equal("packet_too_large", e.GetProperty("error").GetString());
        Assert.Contains("MaxPacketBytes", e.GetProperty("message").GetString(), StringComparison.Ordinal);

        // It goes on: the next trigger fails the same way, and an MQTT question is refused (an encoder does not answer).
        Assert.Equal(encoder.Topic("errors"), (await client.NextAsync(timeoutSeconds: 30)).Topic);
        await client.PublishAsync(encoder.Topic("cam0/ask"), """{"question":"hi"}""");
        JsonElement refused = Json(await client.NextAsync(x => x.Topic == encoder.Topic("errors") && x.ConvertPayloadToString().Contains("rejected", StringComparison.Ordinal), timeoutSeconds: 30));
        Assert.Contains("encoder", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(encoder.Get<TokenPublisher>().Refused >= 2);
        Assert.Equal(0, encoder.Get<TokenPublisher>().Published);
    }

    private async Task<List<MqttApplicationMessage>> NoAnswerAsync(ServiceHarness encoder)
    {
        // The encoder answers nothing: its answer topic stays quiet while packets flow.
        await using TestClient probe = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, encoder.Topic("cam0/answer"));
        return await probe.CollectAsync(1, timeoutSeconds: 1.5);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition())
        {
            await Task.Delay(50, cts.Token);
        }
    }
}
