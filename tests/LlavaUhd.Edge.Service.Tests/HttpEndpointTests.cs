using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Service.Frames;
using LlavaUhd.Edge.Service.Http;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using LlavaUhd.Edge.Service.Work;
using MQTTnet;
using MQTTnet.Formatter;
using OpenCvSharp;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>
/// The HTTP endpoints of the whole service (docs/http.md) on Kestrel, over real sockets: <c>/metrics</c> read with a
/// Prometheus text parser, health and readiness through a camera and a broker outage, <c>/api/status</c> against the
/// retained MQTT status, snapshots with and without overlays (and on MQTT), and the status page in headless Chromium.
/// </summary>
public sealed partial class HttpEndpointTests
{
    private static readonly string[] s_stages = ["queue", "preprocess", "encode", "prefill", "decode", "total"];

    private static async Task<HttpResponseMessage> WaitForStatusAsync(HttpClient client, string path, HttpStatusCode status, double seconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            HttpResponseMessage response = await client.GetAsync(path, cts.Token);
            if (response.StatusCode == status)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(100, cts.Token);
        }
    }

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using HttpResponseMessage response = await client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task Metrics_HaveEveryFamilyWithItsTypeAndLabels_AndHistogramCountsRiseWithAnswers()
    {
        int port = TestPorts.Free();
        int http = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            $"--Http:Port={http}", "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=What is on the belt?", "--Service:Questions:0:IntervalSeconds=0.2",
            // a typed JSON answer always takes several tokens, so the decode throughput exists whatever the random model says
            "--Service:Questions:0:AnswerType=json", """--Service:Questions:0:Schema={"properties": {"jam": {"type": "boolean"}, "count": {"type": "integer", "minimum": 0, "maximum": 6}}}""");
        using HttpClient client = Client(http);
        var standing = service.Get<StandingQuestionService>();
        await Poll.UntilAsync(() => standing.Published >= 2);

        // a malformed question: refused with invalid_json, counted by code
        await using (TestClient robot = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500))
        {
            await robot.PublishAsync(service.Topic("cam0/ask"), "{not json");
        }

        PrometheusText first = await ScrapeAsync(client);
        using var waitForError = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!first.Find("llava_edge_errors_total", ("code", ErrorCodes.InvalidJson)).Any())
        {
            await Task.Delay(100, waitForError.Token);
            first = await ScrapeAsync(client);
        }

        Assert.Equal(1, first.Value("llava_edge_errors_total", ("code", ErrorCodes.InvalidJson)));
        Assert.Equal("counter", first.Types["llava_edge_errors_total"]);

        // per-stage latency: one histogram, a stage label, buckets in seconds up to +Inf that agree with _count
        Assert.Equal("histogram", first.Types["llava_edge_stage_duration_seconds"]);
        var before = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string stage in s_stages)
        {
            double count = first.Value("llava_edge_stage_duration_seconds_count", ("stage", stage));
            Assert.True(count >= 2, $"stage {stage}: {count} observations after 2 answers");
            Assert.Equal(count, first.Value("llava_edge_stage_duration_seconds_bucket", ("stage", stage), ("le", "+Inf")));
            Assert.Contains(first.Find("llava_edge_stage_duration_seconds_bucket", ("stage", stage)), s => s.Label("le") == "0.001");
            double sum = first.Value("llava_edge_stage_duration_seconds_sum", ("stage", stage));
            Assert.True(sum >= 0 && sum < count * 60, $"stage {stage}: sum {sum} s is not in seconds");
            before[stage] = count;
        }

        Assert.True(first.Value("llava_edge_stage_duration_seconds_sum", ("stage", "total")) > 0);
        Assert.Equal("counter", first.Types["llava_edge_answers_total"]);
        Assert.True(first.Value("llava_edge_answers_total", ("camera", "cam0")) >= 2);
        Assert.Equal("counter", first.Types["llava_edge_generated_tokens_total"]);
        Assert.True(first.Value("llava_edge_generated_tokens_total") >= 2);
        Assert.Equal("gauge", first.Types["llava_edge_queue_depth"]);
        Assert.InRange(first.Value("llava_edge_queue_depth"), 0, 4);
        Assert.Equal("gauge", first.Types["llava_edge_decode_tokens_per_second"]);
        Assert.True(first.Value("llava_edge_decode_tokens_per_second") > 0);
        Assert.Equal("gauge", first.Types["llava_edge_camera_state"]);
        Assert.Equal(1, first.Value("llava_edge_camera_state", ("camera", "cam0"), ("state", "live")));
        foreach (string other in (string[])["stopped", "connecting", "failed", "ended"])
        {
            Assert.Equal(0, first.Value("llava_edge_camera_state", ("camera", "cam0"), ("state", other)));
        }

        Assert.Equal("gauge", first.Types["llava_edge_process_resident_memory_bytes"]);
        Assert.True(first.Value("llava_edge_process_resident_memory_bytes") > 10_000_000);
        Assert.Equal("gauge", first.Types["llava_edge_outbox_pending"]);
        Assert.True(first.Value("llava_edge_outbox_pending") >= 0);

        // more answers: every stage's count rises
        long published = standing.Published;
        await Poll.UntilAsync(() => standing.Published >= published + 2);
        PrometheusText second = await ScrapeAsync(client);
        foreach (string stage in s_stages)
        {
            Assert.True(second.Value("llava_edge_stage_duration_seconds_count", ("stage", stage)) > before[stage], $"stage {stage} did not rise");
        }
    }

    [Fact]
    public async Task Readiness_FollowsTheCameraAndTheBroker_HealthStaysUp_StatusIsTheMqttStatus()
    {
        await using var broker = new MosquittoProcess();
        await broker.StartAsync();
        string dir = Directory.CreateTempSubdirectory("http-ready").FullName;
        string video = Path.Combine(dir, "cam.avi");
        int http = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(broker.Port, embedded: false, null,
            $"--Http:Port={http}", $"--Capture:Cameras:0:Source={video}", "--Capture:Cameras:0:OnEnd=Loop",
            "--Capture:Cameras:0:InitialBackoffMs=100", "--Capture:Cameras:0:MaxBackoffMs=300");
        using HttpClient client = Client(http);

        using (HttpResponseMessage health = await client.GetAsync("healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("ok\n", await health.Content.ReadAsStringAsync());
        }

        // no frame yet: not ready, the body says the camera is missing; a snapshot is 503
        using (HttpResponseMessage notReady = await client.GetAsync("readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            JsonElement body = Json(await notReady.Content.ReadAsStringAsync());
            Assert.False(body.GetProperty("ready").GetBoolean());
            Assert.Equal(["camera"], Strings(body.GetProperty("missing")));
            Assert.True(body.GetProperty("model_loaded").GetBoolean());
            Assert.True(body.GetProperty("broker_connected").GetBoolean());
            Assert.Empty(Strings(body.GetProperty("live_cameras")));
        }

        using (HttpResponseMessage noFrame = await client.GetAsync("api/cameras/cam0/snapshot.jpg"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, noFrame.StatusCode);
            Assert.Equal("no_frame", Json(await noFrame.Content.ReadAsStringAsync()).GetProperty("error").GetString());
        }

        using (var writer = new VideoWriter(video + ".tmp.avi", FourCC.MJPG, 10, new OpenCvSharp.Size(320, 240)))
        using (var frame = new Mat(240, 320, MatType.CV_8UC3, new Scalar(40, 120, 200)))
        {
            for (int i = 0; i < 20; i++)
            {
                writer.Write(frame);
            }
        }

        File.Move(video + ".tmp.avi", video);
        using (HttpResponseMessage ready = await WaitForStatusAsync(client, "readyz", HttpStatusCode.OK))
        {
            JsonElement body = Json(await ready.Content.ReadAsStringAsync());
            Assert.True(body.GetProperty("ready").GetBoolean());
            Assert.Empty(Strings(body.GetProperty("missing")));
            Assert.Equal(["cam0"], Strings(body.GetProperty("live_cameras")));
        }

        // /api/status: the retained MQTT status message, built by the same code
        await using TestClient robot = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, service.Topic("status"));
        MqttApplicationMessage retained = await robot.NextAsync(m => m.ConvertPayloadToString().Contains("\"live\"", StringComparison.Ordinal), 30);
        StatusMessage mqttStatus = JsonSerializer.Deserialize(retained.ConvertPayloadToString(), MessagingJsonContext.Default.StatusMessage)!;
        using (HttpResponseMessage response = await client.GetAsync("api/status"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            StatusMessage status = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), MessagingJsonContext.Default.StatusMessage)!;
            Assert.Equal(service.DeviceId, status.Device);
            Assert.Equal(service.Get<ModelWorker>().Model.ModelId, status.Model);
            Assert.Equal(mqttStatus.Device, status.Device);
            Assert.Equal(mqttStatus.Model, status.Model);
            Assert.Equal(mqttStatus.Provider, status.Provider);
            Assert.Equal(mqttStatus.EngineState, status.EngineState);
            Assert.Equal(mqttStatus.Versions, status.Versions);
            Assert.Equal(mqttStatus.Cameras.Select(c => (c.Id, c.State, c.Enabled)), status.Cameras.Select(c => (c.Id, c.State, c.Enabled)));
            Assert.Equal(["cam0"], status.Cameras.Select(c => c.Id));
        }

        // the broker goes away: alive, not ready, and the body says it is the broker
        await broker.StopAsync();
        await Poll.UntilAsync(() => !service.Get<EdgeMqttClient>().IsConnected);
        using (HttpResponseMessage down = await client.GetAsync("readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            JsonElement body = Json(await down.Content.ReadAsStringAsync());
            Assert.Contains("broker", Strings(body.GetProperty("missing")));
            Assert.DoesNotContain("model", Strings(body.GetProperty("missing")));
            Assert.False(body.GetProperty("broker_connected").GetBoolean());
        }

        using (HttpResponseMessage health = await client.GetAsync("healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await service.StopAsync();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Snapshots_AreJpegsOfTheFrame_OverlaysDrawTheZoneAndTheAnsweredRegion_AndGoOutOnMqtt()
    {
        int port = TestPorts.Free();
        int http = TestPorts.Free();
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            $"--Http:Port={http}", "--Service:PublishSnapshots=true", "--Service:FrameHistory=64",
            "--Capture:Cameras:0:Zones:0:Name=belt", "--Capture:Cameras:0:Zones:0:Rect:0=0.25", "--Capture:Cameras:0:Zones:0:Rect:1=0.25",
            "--Capture:Cameras:0:Zones:0:Rect:2=0.5", "--Capture:Cameras:0:Zones:0:Rect:3=0.5",
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=What is on the belt?", "--Service:Questions:0:Zone=belt",
            "--Service:Questions:0:IntervalSeconds=0.3");
        using HttpClient client = Client(http);
        await using TestClient robot = await TestClient.ConnectAsync(port, MqttProtocolVersion.V500);

        // bad input: clear errors, not exceptions
        using (HttpResponseMessage unknown = await client.GetAsync("api/cameras/nope/snapshot.jpg"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            JsonElement body = Json(await unknown.Content.ReadAsStringAsync());
            Assert.Equal(ErrorCodes.UnknownCamera, body.GetProperty("error").GetString());
            Assert.Contains("'nope'", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using (HttpResponseMessage bad = await client.GetAsync("api/cameras/cam0/snapshot.jpg?overlay=roi,bogus"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("'bogus'", Json(await bad.Content.ReadAsStringAsync()).GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using (HttpResponseMessage bad = await client.GetAsync("api/cameras/cam0/snapshot.jpg?frame=-3"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // an answered frame, rendered plain and with each overlay
        CameraFrames frames = service.Get<FrameStore>()["cam0"];
        await Poll.UntilAsync(() => frames.LastAnswer is not null);
        AnsweredPlan answered = frames.LastAnswer!;
        Assert.Equal(new Core.Slicing.PixelRect(80, 60, 160, 120), answered.Roi);   // the zone, in frame pixels
        string frame = answered.FrameSequence.ToString(CultureInfo.InvariantCulture);
        using Mat plain = await JpegAsync(client, $"api/cameras/cam0/snapshot.jpg?frame={frame}");
        using Mat roi = await JpegAsync(client, $"api/cameras/cam0/snapshot.jpg?frame={frame}&overlay=roi");
        using Mat slices = await JpegAsync(client, $"api/cameras/cam0/snapshot.jpg?frame={frame}&overlay=slices");
        using Mat both = await JpegAsync(client, $"api/cameras/cam0/snapshot.jpg?frame={frame}&overlay=roi,slices");
        foreach (Mat m in (Mat[])[plain, roi, slices, both])
        {
            Assert.Equal(new OpenCvSharp.Size(320, 240), m.Size());
        }

        // the zone's top edge (row 60, x 90..230): yellow with roi, green with slices (the answered region), unchanged without
        Scalar plainEdge = MeanOf(plain, new Rect(90, 60, 140, 1));
        Scalar roiEdge = MeanOf(roi, new Rect(90, 60, 140, 1));
        Scalar slicesEdge = MeanOf(slices, new Rect(90, 60, 140, 1));
        Assert.True(roiEdge[2] > 180 && roiEdge[1] > 150 && roiEdge[0] < 90, $"zone edge not yellow (BGR {roiEdge})");
        Assert.True(slicesEdge[1] > 130 && slicesEdge[2] < 90 && slicesEdge[0] < 90, $"region edge not green (BGR {slicesEdge})");
        Assert.False(Near(plainEdge, roiEdge), $"plain edge {plainEdge} looks like the overlay {roiEdge}");

        // away from every line (the top-left corner, outside the zone) the overlays change nothing
        using var diff = new Mat();
        Cv2.Absdiff(plain, both, diff);
        Assert.True(MeanOf(diff, new Rect(0, 0, 64, 48)).Val0 < 2, "the overlay changed pixels far from its lines");
        Assert.True(MeanOf(diff, new Rect(78, 58, 164, 5)).Val0 > 20, "the overlay did not change the zone's edge");

        // MQTT: the same overlay JPEG, retained, after answers
        string topic = service.Topic("cam0/snapshot");
        await robot.Client.SubscribeAsync(topic);
        MqttApplicationMessage snapshot = await robot.NextAsync(m => m.Topic == topic, 30);
        if (!snapshot.Retain)
        {
            // The first snapshot went out live after the subscription: it must now be retained, so a new subscription
            // gets it at once, with the retain flag (live copies still arriving on the old one are skipped).
            await robot.Client.UnsubscribeAsync(topic);
            await robot.Client.SubscribeAsync(topic);
            snapshot = await robot.NextAsync(m => m.Topic == topic && m.Retain, 30);
        }

        Assert.True(snapshot.Retain, "the snapshot is retained (a new subscriber gets the latest at once)");
        Assert.Equal("image/jpeg", snapshot.ContentType);
        using Mat published = Cv2.ImDecode(System.Buffers.BuffersExtensions.ToArray(snapshot.Payload), ImreadModes.Color);
        Assert.Equal(new OpenCvSharp.Size(320, 240), published.Size());
        Scalar publishedEdge = MeanOf(published, new Rect(90, 60, 140, 1));
        Assert.True(publishedEdge[1] > 130 && publishedEdge[2] < 90, $"published snapshot has no region overlay (BGR {publishedEdge})");
    }

    [Fact]
    public async Task StatusPage_InHeadlessChromium_ShowsTheCameraImageAndTheEncodedAnswers()
    {
        string chromium = HeadlessChromium.Path;   // fails, naming tools/setup.sh, when Chromium is missing
        Assert.True(File.Exists(chromium));
        int port = TestPorts.Free();
        int http = TestPorts.Free();
        const string Question = "Is <b>this</b> & that?";
        await using ServiceHarness service = await ServiceHarness.StartAsync(port, embedded: true, null,
            $"--Http:Port={http}", "--Service:Questions:0:Camera=cam0", $"--Service:Questions:0:Question={Question}", "--Service:Questions:0:IntervalSeconds=0.3");
        AnswerLog log = service.Get<AnswerLog>();
        await Poll.UntilAsync(() => log.Latest().Count >= 2);
        string url = $"http://127.0.0.1:{http}/";

        string dom = await HeadlessChromium.DumpDomAsync(url, TimeSpan.FromSeconds(60));
        Assert.Matches(CameraElement(), dom);
        Match camera = CameraElement().Match(dom);
        Assert.Contains("<div class=\"state state-live\">live</div>", camera.Value, StringComparison.Ordinal);
        Assert.Contains("src=\"/api/cameras/cam0/snapshot.jpg?overlay=roi,slices\"", camera.Value, StringComparison.Ordinal);
        Assert.Contains($"<dd id=\"device\">{service.DeviceId}</dd>", dom, StringComparison.Ordinal);
        Assert.Contains($"<dd id=\"model\">{service.Get<ModelWorker>().Model.ModelId}</dd>", dom, StringComparison.Ordinal);
        Match[] rows = [.. AnswerRow().Matches(dom).Cast<Match>()];
        Assert.True(rows.Length >= 2, $"{rows.Length} answer rows in #answers");
        Assert.Contains("<td class=\"camera\">cam0</td>", rows[0].Value, StringComparison.Ordinal);
        Assert.Contains("<td class=\"question\">Is &lt;b&gt;this&lt;/b&gt; &amp; that?</td>", rows[0].Value, StringComparison.Ordinal);
        Assert.Matches(@"<td class=""latency"">\d+ ms", rows[0].Value);
        Assert.DoesNotContain("<b>this</b>", dom, StringComparison.Ordinal);   // the question is text, not markup

        string png = Path.Combine(Path.GetTempPath(), $"status-page-{Guid.NewGuid():N}.png");
        try
        {
            await HeadlessChromium.ScreenshotAsync(url, png, 1280, 1024, TimeSpan.FromSeconds(60));
            using Mat shot = Cv2.ImRead(png, ImreadModes.Color);
            Assert.Equal(new OpenCvSharp.Size(1280, 1024), shot.Size());
            Cv2.MeanStdDev(shot, out _, out Scalar spread);
            Assert.True(spread.Val0 > 10, $"the page looks blank (std dev {spread.Val0})");

            // the camera's image is on the page: the test pattern's textured top-left corner (outside the zone and the
            // moving square's path) is found in the screenshot
            using HttpClient client = Client(http);
            using Mat snapshot = await JpegAsync(client, "api/cameras/cam0/snapshot.jpg");
            using var corner = new Mat(snapshot, new Rect(0, 0, 96, 72));
            Cv2.MeanStdDev(corner, out _, out Scalar cornerSpread);
            Assert.True(cornerSpread.Val0 > 5, "the test pattern corner has no texture to find");
            using var match = new Mat();
            Cv2.MatchTemplate(shot, corner, match, TemplateMatchModes.CCoeffNormed);
            Cv2.MinMaxLoc(match, out _, out double best, out _, out OpenCvSharp.Point at);
            Assert.True(best > 0.8, $"the camera image is not on the page (best match {best:0.00} at {at})");
        }
        finally
        {
            File.Delete(png);
        }
    }

    [Fact]
    public void HttpKeys_BadPortAndAddress_AreConfigurationErrorsNamingTheKey()
    {
        string outbox = Path.Combine(Path.GetTempPath(), "http-config-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Program.Build(
            [.. ServiceHarness.Args(TestPorts.Free(), false, "cfg", outbox, "--Http:Port=70000", "--Http:Address=eth0")]));
        Assert.Contains(ex.Failures, f => f.StartsWith("Http:Port = 70000 must be 0 (HTTP off) or a TCP port 1–65535.", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("Http:Address 'eth0' is not an IP address", StringComparison.Ordinal));
        Assert.False(Directory.Exists(outbox));   // nothing was built
    }

    private static Scalar MeanOf(Mat image, Rect area)
    {
        using var view = new Mat(image, area);
        return Cv2.Mean(view);
    }

    private static bool Near(Scalar a, Scalar b) => Math.Abs(a[0] - b[0]) + Math.Abs(a[1] - b[1]) + Math.Abs(a[2] - b[2]) < 60;

    private static async Task<Mat> JpegAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 4 && bytes[0] == 0xFF && bytes[1] == 0xD8, "not a JPEG (no SOI marker)");
        Mat image = Cv2.ImDecode(bytes, ImreadModes.Color);
        Assert.False(image.Empty(), "the JPEG does not decode");
        return image;
    }

    [GeneratedRegex(@"<div class=""camera"" data-camera=""cam0"">.*?</div>\s*<img[^>]*></div>", RegexOptions.Singleline)]
    private static partial Regex CameraElement();

    [GeneratedRegex(@"<tr class=""answer"">.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex AnswerRow();
}
