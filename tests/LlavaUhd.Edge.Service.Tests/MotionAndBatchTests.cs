using System.Collections.Concurrent;
using System.Text.Json;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>Motion triggers end to end (test pattern with a moving square) and the worker's dynamic batching.</summary>
public sealed class MotionAndBatchTests
{
    [Fact]
    public async Task MotionTrigger_InAZone_AnswersAboutTheMotionBox_NoneForAZoneWithoutMotion()
    {
        // 320x240 test pattern: a 30 px white square moves along y 105..135. Zone "belt" covers that band, "sky" the top.
        int port = TestPorts.Free();
        var model = new SlowModel(TimeSpan.Zero);
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, model, camera: true,
            "--Capture:Cameras:0:Zones:0:Name=belt", "--Capture:Cameras:0:Zones:0:Rect:0=0", "--Capture:Cameras:0:Zones:0:Rect:1=0.35",
            "--Capture:Cameras:0:Zones:0:Rect:2=1", "--Capture:Cameras:0:Zones:0:Rect:3=0.3",
            "--Capture:Cameras:0:Zones:1:Name=sky", "--Capture:Cameras:0:Zones:1:Rect:0=0", "--Capture:Cameras:0:Zones:1:Rect:1=0",
            "--Capture:Cameras:0:Zones:1:Rect:2=1", "--Capture:Cameras:0:Zones:1:Rect:3=0.25",
            "--Triggers:Motion:0:Name=moving", "--Triggers:Motion:0:Zone=belt", "--Triggers:Motion:0:CooldownMs=200",
            "--Triggers:Motion:1:Name=sky-motion", "--Triggers:Motion:1:Zone=sky", "--Triggers:Motion:1:CooldownMs=0",
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=mover", "--Service:Questions:0:Question=What moves?",
            "--Service:Questions:0:Trigger=moving",
            "--Service:Questions:1:Camera=cam0", "--Service:Questions:1:Name=bird", "--Service:Questions:1:Question=A bird?",
            "--Service:Questions:1:Trigger=sky-motion",
            "--Service:MotionChecksPerSecond=10");
        await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("cam0/answer"));
        List<MqttApplicationMessage> answers = await client.CollectAsync(3, timeoutSeconds: 30);
        Assert.Equal(3, answers.Count);
        foreach (MqttApplicationMessage m in answers)
        {
            JsonElement a = JsonDocument.Parse(m.ConvertPayloadToString()).RootElement;
            Assert.Equal("mover", a.GetProperty("question_id").GetString());
            JsonElement roi = a.GetProperty("roi");
            int x = roi.GetProperty("x").GetInt32(), y = roi.GetProperty("y").GetInt32();
            int w = roi.GetProperty("width").GetInt32(), h = roi.GetProperty("height").GetInt32();
            // The padded box around the square (and where it was), not the zone nor the frame.
            // (MOG2 may see only the square's leading or trailing part: the box can be narrower than the square.)
            Assert.InRange(y, 70, 120);
            Assert.InRange(y + h, 120, 170);
            Assert.InRange(w, 4, 200);
            Assert.True(x + w <= 320);
            Assert.Equal($"seen {w}x{h}", a.GetProperty("answer").GetString());
        }

        // Nothing moves in the sky: its trigger never fired, so its question was never asked.
        IReadOnlyList<Capture.Triggers.Trigger> triggers = service.Get<IReadOnlyList<Capture.Triggers.Trigger>>();
        Assert.True(triggers.Single(t => t.Name == "moving").FiredCount >= 3);
        Assert.Equal(0, triggers.Single(t => t.Name == "sky-motion").FiredCount);
    }

    [Fact]
    public async Task Worker_EncodesWaitingItemsInOneBatch_AndABadItemFailsAlone()
    {
        using var store = new FrameStore(["cam0"], 2);
        store["cam0"].Publish(new Frame(ImageView.Packed(new byte[64 * 64 * 3], 64, 64, PixelFormat.Bgr24), DateTimeOffset.UtcNow, 1, "cam0", null));
        var model = new BatchModel();
        using var worker = new ModelWorker(model, store, new LatencyStats(), 8, NullLogger<ModelWorker>.Instance, maxBatch: 4);
        await worker.StartAsync(CancellationToken.None);

        WorkItem Item(int width) => new(store["cam0"].TryLatest()!, new PixelRect(0, 0, width, 32), "q", CompressionProfile.Balanced, 2, "test");

        WorkItem first = Item(32);
        Assert.True(worker.TryEnqueue(first));
        Assert.True(model.Entered.Wait(TimeSpan.FromSeconds(10)));      // the worker is inside the first answer
        WorkItem[] waiting = [Item(16), Item(13), Item(20), Item(24), Item(28)];   // 13: the model refuses it
        foreach (WorkItem w in waiting)
        {
            Assert.True(worker.TryEnqueue(w));
        }

        model.Gate.Set();
        await first.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("seen 16x32", (await waiting[0].Completion.WaitAsync(TimeSpan.FromSeconds(10))).Answer.Text);
        await Assert.ThrowsAsync<InvalidOperationException>(() => waiting[1].Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        foreach (WorkItem w in waiting[2..])
        {
            await w.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await worker.StopAsync(CancellationToken.None);
        Assert.Equal([4], model.BatchSizes);          // the four that waited together went in one call (which failed on 13)
        Assert.Equal(1, worker.Failed);
        Assert.Equal(5, worker.Completed);
    }

    /// <summary>Records <see cref="EncodeBatch"/> sizes; refuses a 13 px wide region; the first answer waits for <see cref="Gate"/>.</summary>
    private sealed class BatchModel : IVisionLanguageModel
    {
        private readonly SlowModel _inner = new(TimeSpan.Zero);
        private int _answers;

        public ConcurrentQueue<int> Sizes { get; } = new();

        public int[] BatchSizes => [.. Sizes];

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Gate { get; } = new();

        public string ModelId => _inner.ModelId;

        public string Provider => _inner.Provider;

        public EncoderIdentity Encoder => _inner.Encoder;

        public VisualTokens Encode(EncodeRequest request, CancellationToken cancellationToken = default) =>
            request.RoiInFrame.Width == 13 ? throw new InvalidOperationException("bad region") : _inner.Encode(request, cancellationToken);

        public IReadOnlyList<VisualTokens> EncodeBatch(IReadOnlyList<EncodeRequest> requests, CancellationToken cancellationToken = default)
        {
            Sizes.Enqueue(requests.Count);
            return [.. requests.Select(r => Encode(r, cancellationToken))];
        }

        public VlmAnswer Answer(VisualTokens? image, GenerationRequest request, Action<string>? onToken = null, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _answers) == 1)
            {
                Entered.Set();
                Gate.Wait(cancellationToken);
            }

            return _inner.Answer(image, request, onToken, cancellationToken);
        }

        public void Dispose()
        {
        }
    }
}
