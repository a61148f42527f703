using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Sources;
using LlavaUhd.Edge.Capture.Tests.Fakes;
using LlavaUhd.Edge.Core.Capture;
using OpenCvSharp;

namespace LlavaUhd.Edge.Capture.Tests;

public sealed class SourceTests
{
    [Fact]
    public void Options_CheckPathsOff_ValidatesShapeOnly()
    {
        var options = new CaptureOptions
        {
            Cameras =
            {
                new CameraOptions { Id = "a", Source = "/dev/video97" },
                new CameraOptions { Id = "b", Source = "/nonexistent/clip.mp4" },
                new CameraOptions { Id = "c", Source = "/dev/../video0x" },
                new CameraOptions { Id = "d", Source = "rtsp://" },
            },
        };

        Assert.Equal(3, options.Validate().Count(p => p.Contains("does not exist", StringComparison.Ordinal)));
        IReadOnlyList<string> shapeOnly = options.Validate(checkPaths: false);
        Assert.DoesNotContain(shapeOnly, p => p.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(shapeOnly, p => p.Contains("(d)", StringComparison.Ordinal));   // a malformed URL is still a problem
    }

    [Fact]
    public void Options_BadInput_AllProblemsListedAtOnce()
    {
        var options = new CaptureOptions
        {
            Cameras =
            {
                new CameraOptions { Id = "a", Source = "/dev/video97" },
                new CameraOptions { Id = "b", Source = "nvarguscamerasrc ! ! video/x-raw ! videoconvert" },
                new CameraOptions { Id = "c", Source = "rtsp://", Width = 640 },
                new CameraOptions { Id = "a", Source = "testpattern", FourCC = "MJPEG", Zones = { ZoneOptions.FromPolygon("z", false, (0.1, 0.1), (0.5, 0.5)), ZoneOptions.FromRect("r", 0, 0, 0, 0) } },
                new CameraOptions { Id = "e", Source = "/nonexistent/clip.mp4", Motion = new MotionOptions { MaxRegions = 0 } },
            },
        };

        IReadOnlyList<string> problems = options.Validate();
        string all = string.Join('\n', problems);
        Assert.Contains("device '/dev/video97' does not exist", all, StringComparison.Ordinal);
        Assert.Contains("empty element", all, StringComparison.Ordinal);
        Assert.Contains("must end with an appsink", all, StringComparison.Ordinal);
        Assert.Contains("not a valid absolute URL", all, StringComparison.Ordinal);
        Assert.Contains("set both Width and Height", all, StringComparison.Ordinal);
        Assert.Contains("FourCC must be 4", all, StringComparison.Ordinal);
        Assert.Contains("at least 3 points", all, StringComparison.Ordinal);
        Assert.Contains("zero size", all, StringComparison.Ordinal);
        Assert.Contains("camera id 'a' is used twice", all, StringComparison.Ordinal);
        Assert.Contains("video file '/nonexistent/clip.mp4' does not exist", all, StringComparison.Ordinal);
        Assert.Contains("MaxRegions", all, StringComparison.Ordinal);
        Assert.Equal(11, problems.Count);

        // the manager refuses the shape problems only: a missing device or file is opened and retried at run time
        var ex = Assert.Throws<CaptureConfigurationException>(() => new CameraManager(options));
        Assert.Equal(problems.Where(p => !p.Contains("does not exist", StringComparison.Ordinal)), ex.Problems);
    }

    [Theory]
    [InlineData("0", CameraSourceKind.Device)]
    [InlineData("/dev/video0", CameraSourceKind.Device)]
    [InlineData("nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1920,height=1080 ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! appsink drop=1", CameraSourceKind.GStreamer)]
    [InlineData("rtsp://user:pw@10.0.0.5:554/stream1", CameraSourceKind.Stream)]
    [InlineData("clip.avi", CameraSourceKind.File)]
    [InlineData("testpattern:640x480", CameraSourceKind.TestPattern)]
    public void Kind_IsInferredFromSource(string source, CameraSourceKind kind) =>
        Assert.Equal(kind, new CameraOptions { Id = "x", Source = source }.ResolveKind());

    [Theory]
    [InlineData("rtsp://user:pw@10.0.0.5/s", "rtsp://user:***@10.0.0.5/s")]
    [InlineData("rtsp://10.0.0.5/s", "rtsp://10.0.0.5/s")]
    [InlineData("[tcp @ 0x55] Connection to rtsp://admin:s3cret@cam:554/h264 failed: Connection refused",
        "[tcp @ 0x55] Connection to rtsp://admin:***@cam:554/h264 failed: Connection refused")]
    public void Redact_HidesStreamPasswords_InSourcesAndLogLines(string text, string expected) =>
        Assert.Equal(expected, OpenCvCameraSource.Redact(text));

    [Fact]
    public void Supervisor_VideoThatEnds_IsReconnected()
    {
        string video = TestVideos.WritePattern(Path.Combine(TestVideos.TempDirectory(), "short.avi"), 160, 120, 10);
        var options = new CameraOptions { Id = "file", Source = video, OnEnd = EndOfStreamAction.Reconnect, InitialBackoffMs = 10, MaxBackoffMs = 20 };
        using var camera = new CameraSupervisor(options);
        camera.Start();
        Assert.True(TestVideos.WaitFor(() => camera.Status.Reconnects >= 2), camera.Status.ToString());
        Assert.True(camera.Status.FramesGrabbed > 20);
        Assert.True(camera.TryTakeLatest(out Frame? frame) || TestVideos.WaitFor(() => camera.TryTakeLatest(out frame)));
        using (frame)
        {
            Assert.Equal("file", frame!.CameraId);
            Assert.Equal(160, frame.Width);
        }
    }

    [Fact]
    public void Supervisor_StreamDisappears_ReportsFailedAndRecovers()
    {
        string dir = TestVideos.TempDirectory();
        string video = TestVideos.WritePattern(Path.Combine(dir, "stream.avi"), 160, 120, 10);
        byte[] bytes = File.ReadAllBytes(video);
        var states = new List<CameraStatus>();
        var options = new CameraOptions { Id = "s", Source = video, OnEnd = EndOfStreamAction.Reconnect, InitialBackoffMs = 20, MaxBackoffMs = 80 };
        using var camera = new CameraSupervisor(options);
        camera.StatusChanged += (_, s) =>
        {
            lock (states)
            {
                states.Add(s);
            }
        };
        camera.Start();
        Assert.True(TestVideos.WaitFor(() => camera.Status.FramesGrabbed > 0));
        File.Delete(video); // the stream goes away

        Assert.True(TestVideos.WaitFor(() => camera.Status is { State: CameraState.Failed, Attempt: >= 3 }), camera.Status.ToString());
        CameraStatus failed = camera.Status;
        Assert.Contains("does not exist", failed.Reason, StringComparison.Ordinal);
        Assert.NotNull(failed.RetryIn);
        lock (states)
        {
            // Back-off grows: 20, 40, 80 (capped) ms.
            TimeSpan[] delays = states.Where(s => s.RetryIn is { } r && r > TimeSpan.Zero).Select(s => s.RetryIn!.Value).Take(3).ToArray();
            Assert.Equal([TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(80)], delays);
        }

        long before = camera.Status.FramesGrabbed;
        File.WriteAllBytes(video, bytes); // and comes back
        Assert.True(TestVideos.WaitFor(() => camera.Status.FramesGrabbed > before + 5), camera.Status.ToString());
    }

    [Fact]
    public void Manager_UnopenableDevice_ReportsClearState_OthersKeepRunning()
    {
        var options = new CaptureOptions
        {
            Cameras =
            {
                new CameraOptions { Id = "missing", Source = "63", InitialBackoffMs = 50, MaxBackoffMs = 200 },
                new CameraOptions { Id = "pattern", Source = "testpattern:160x120", Fps = 100 },
            },
        };
        using var manager = new CameraManager(options);
        manager.Start();
        Assert.True(TestVideos.WaitFor(() => manager["missing"].Status.State == CameraState.Failed && manager["pattern"].Status.FramesGrabbed > 10));
        CameraStatus missing = manager["missing"].Status;
        Assert.Contains("Device 63: could not open", missing.Reason, StringComparison.Ordinal);
        Assert.Contains("missing: Failed", missing.ToString(), StringComparison.Ordinal);
        Assert.Equal(CameraState.Live, manager["pattern"].Status.State);
        Assert.Equal(2, manager.Statuses.Count);
    }

    [Fact]
    public async Task Supervisor_LatestFrameOnly_DropsOldFramesAndReusesBuffers()
    {
        using var camera = new CameraSupervisor(new CameraOptions { Id = "p", Source = "testpattern:160x120", Fps = 500 });
        camera.Start();
        Assert.True(TestVideos.WaitFor(() => camera.Status.FramesDropped > 20));
        int buffers = camera.BuffersCreated;
        Assert.InRange(buffers, 1, 3); // nobody reads: one waiting, one being filled

        long lastSequence = -1;
        for (int i = 0; i < 5; i++)
        {
            using Frame frame = await camera.ReadLatestAsync();
            Assert.True(frame.Sequence > lastSequence);
            lastSequence = frame.Sequence;
        }

        Assert.InRange(camera.BuffersCreated, 1, 4);
    }

    [Fact]
    public void Supervisor_FileThatEnds_WithStop_ReportsEnded()
    {
        string video = TestVideos.WritePattern(Path.Combine(TestVideos.TempDirectory(), "once.avi"), 160, 120, 5);
        using var camera = new CameraSupervisor(new CameraOptions { Id = "once", Source = video });
        camera.Start();
        Assert.True(TestVideos.WaitFor(() => camera.Status.State == CameraState.Ended), camera.Status.ToString());
        Assert.Equal(5, camera.Status.FramesGrabbed);
    }

    [Fact]
    public void ImageFolder_ReadsInNameOrder_AndLoops()
    {
        string dir = TestVideos.TempDirectory();
        for (int i = 0; i < 3; i++)
        {
            using var img = new Mat(20, 30, MatType.CV_8UC3, new Scalar(i * 50, 0, 0));
            Cv2.ImWrite(Path.Combine(dir, $"img{i}.png"), img);
        }

        using var source = new ImageFolderSource(new CameraOptions { Id = "f", Source = dir, OnEnd = EndOfStreamAction.Loop });
        source.Open();
        using var mat = new Mat();
        var blues = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(source.Read(mat));
            blues.Add(mat.At<Vec3b>(0, 0).Item0);
        }

        Assert.Equal([0.0, 50, 100, 0], blues);
    }

    [Fact]
    public void Backoff_DoublesUpToTheCap()
    {
        var options = new CameraOptions { InitialBackoffMs = 500, MaxBackoffMs = 3000 };
        Assert.Equal([500.0, 1000, 2000, 3000, 3000], Enumerable.Range(1, 5).Select(a => CameraSupervisor.Backoff(options, a).TotalMilliseconds));
    }
}
