using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Core.Tokens;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// The decoder role's token store through the outbound port alone (docs/architecture.md), no broker: packets are
/// decoded off the receive thread, refusals go out as error messages, questions are answered from the latest tokens.
/// </summary>
public sealed class TokenStoreTests
{
    private static readonly MqttTopics s_topics = new("llavauhd", "dec-1");

    [Fact]
    public async Task Packets_AreDecodedAndAnswered_AndBadOnesAreRefusedThroughThePort()
    {
        var model = new SlowModel(TimeSpan.Zero);
        var port = new RecordingPublisher(s_topics);
        using var store = new TokenStore(model, new AnswerCounter(0, () => { }), ["cam0"], 4, 1 << 20, port, NullLogger<TokenStore>.Instance);
        VisualTokens tokens = model.Encode(new EncodeRequest(ImageView.Packed(new byte[64 * 48 * 3], 64, 48, PixelFormat.Bgr24))
        {
            Camera = "cam0",
            RoiInFrame = new PixelRect(0, 0, 64, 48),
            FrameSequence = 7,
        });
        byte[] packet = TokenPacketCodec.Encode(tokens.ToPacket(), TokenDType.Float32, brotli: true);

        store.OnPacket("llavauhd/enc-1/cam0/tokens", packet);
        store.OnPacket("llavauhd/enc-1/cam0/tokens", [1, 2, 3]);
        store.OnPacket("llavauhd/enc-1/dock/tokens", packet);
        await WaitUntilAsync(() => store.Received + store.Refused == 3);

        Assert.Equal(1, store.Received);
        Assert.Equal(7, store.Latest("cam0")!.Source.FrameSequence);
        Assert.Equal([(ErrorCodes.InvalidPacket, "cam0"), (ErrorCodes.UnknownCamera, "dock")], port.Errors.Select(e => (e.Error, e.Camera!)).Order());
        QuestionAnswer a = await store.AnswerAsync(new Question { Id = "q1", Camera = "cam0", Text = "What is there?" }, CancellationToken.None);
        Assert.Equal(7, a.FrameSequence);
        Assert.StartsWith("seen", a.Answer, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }
}
