using System.Text.Json;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Tests.Streams;
using MQTTnet;
using MQTTnet.Formatter;
using OpenCvSharp;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>Cameras that are missing when the service starts: the service starts with the cameras it has and retries the others.</summary>
public sealed class ServiceCameraTests
{
    private static JsonElement Json(MqttApplicationMessage m) => JsonDocument.Parse(m.ConvertPayloadToString()).RootElement;

    private static string? State(JsonElement status, string camera) =>
        status.GetProperty("cameras").EnumerateArray().FirstOrDefault(c => c.GetProperty("id").GetString() == camera) is { ValueKind: JsonValueKind.Object } c
            ? c.GetProperty("state").GetString()
            : null;

    [Fact]
    public async Task ACameraMissingAtStart_IsRetried_WhileTheOthersRun()
    {
        string dir = Directory.CreateTempSubdirectory("late-camera").FullName;
        string video = Path.Combine(dir, "late.avi");
        int port = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            "--Capture:Cameras:1:Id=late", $"--Capture:Cameras:1:Source={video}", "--Capture:Cameras:1:InitialBackoffMs=100",
            "--Capture:Cameras:1:MaxBackoffMs=300", "--Capture:Cameras:1:OnEnd=Reconnect");
        await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("status"));

        // the state carries the reason: "failed: … the video file does not exist (yet)."
        JsonElement before = Json(await client.NextAsync(m => State(Json(m), "cam0") == "live" && State(Json(m), "late")?.StartsWith("failed", StringComparison.Ordinal) == true, 30));
        Assert.Contains("does not exist", State(before, "late"), StringComparison.Ordinal);

        using (var writer = new VideoWriter(video + ".tmp.avi", FourCC.MJPG, 10, new Size(320, 240)))
        using (var frame = new Mat(240, 320, MatType.CV_8UC3, new Scalar(40, 120, 200)))
        {
            for (int i = 0; i < 20; i++)
            {
                writer.Write(frame);
            }
        }

        File.Move(video + ".tmp.avi", video);   // appears whole, as a camera coming back would
        JsonElement after = Json(await client.NextAsync(m => State(Json(m), "late") == "live", 30));
        Assert.Equal("live", State(after, "cam0"));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task AnRtspCamera_IsAnswered_AndItsStateOnMqttFollowsAStall()
    {
        using var server = new RtspTestServer("h264");
        using var proxy = new StallingTcpProxy(server.Port);
        int port = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            "--Capture:Cameras:1:Id=ip", $"--Capture:Cameras:1:Source={server.UrlThrough(proxy)}", "--Capture:Cameras:1:StallTimeoutSeconds=2",
            "--Capture:Cameras:1:InitialBackoffMs=2000", "--Capture:Cameras:1:MaxBackoffMs=2000");   // a failed state that outlasts the status poll (the retained status shows the current state)
        await using TestClient client = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500, service.Topic("status"), "replies/rtsp");
        await client.NextAsync(m => m.Topic.EndsWith("/status", StringComparison.Ordinal) && State(Json(m), "ip") == "live", 30);

        // a question about the network camera's frame is answered (the frame went capture → slicing → model)
        await client.PublishAsync(service.Topic("ip/ask"), """{"question":"What is on the belt?","id":"r-1","max_tokens":2}""", "replies/rtsp");
        JsonElement answer = Json(await client.NextAsync(m => m.Topic == "replies/rtsp", 30));
        Assert.Equal("r-1", answer.GetProperty("question_id").GetString());
        Assert.Equal("ip", answer.GetProperty("camera").GetString());
        Assert.False(answer.TryGetProperty("error", out _));

        proxy.Stalled = true;
        JsonElement stalled = Json(await client.NextAsync(m => m.Topic.EndsWith("/status", StringComparison.Ordinal)
            && State(Json(m), "ip")?.StartsWith("failed: stalled: no data for", StringComparison.Ordinal) == true, 30));
        Assert.Equal("live", State(stalled, "cam0"));   // the other camera is not affected

        proxy.Stalled = false;
        await client.NextAsync(m => m.Topic.EndsWith("/status", StringComparison.Ordinal) && State(Json(m), "ip") == "live", 30);
    }
}
