using LlavaUhd.Edge.Service.Options;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlavaUhd.Edge.Service.Tests;

public sealed class ConfigurationTests
{
    public static TheoryData<string> DeviceConfigs()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.EnumerateFiles(Path.Combine(ServiceProcess.RepoRoot, "device-configs"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    private static EdgeConfiguration Load(params string[] args)
    {
        var builder = new ConfigurationBuilder();
        Program.AddConfiguration(builder, args);
        return EdgeConfiguration.Load(builder.Build());
    }

    [Fact]
    public void DeviceConfigs_AreAllThere()
    {
        string[] expected = ["jetson-agx-orin-64gb.json", "jetson-orin-nano-8gb.json", "jetson-orin-nx-16gb.json", "raspberry-pi-5.json", "x86-64-dev.json"];
        Assert.Equal(expected, Directory.EnumerateFiles(Path.Combine(ServiceProcess.RepoRoot, "device-configs"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>Binding plus every section's validation; camera devices and model folders are checked for shape only (they live on the device).</summary>
    [Theory]
    [MemberData(nameof(DeviceConfigs))]
    public void DeviceConfig_BindsAndValidates(string file)
    {
        EdgeConfiguration c = Load("--config", Path.Combine(ServiceProcess.RepoRoot, "device-configs", file), "--Service:CheckPaths=false");
        Assert.NotEmpty(c.Capture.Cameras);
        Assert.NotEmpty(c.Service.Questions);
        Assert.False(string.IsNullOrWhiteSpace(c.Inference.Model));
        if (file.StartsWith("jetson", StringComparison.Ordinal))
        {
            Assert.Equal("tensorrt", c.Inference.Providers.Require);
            Assert.Equal(["tensorrt", "cuda", "cpu"], c.Inference.Providers.Order);
            Assert.True(c.Inference.Providers.TensorRt.Int8);
            Assert.Equal("/var/cache/llava-edge/trt", c.Inference.Providers.TensorRt.EngineCacheDir);   // the Dockerfile's volume
            Assert.Equal(file.Contains("nano", StringComparison.Ordinal) ? null : 0, c.Inference.Providers.TensorRt.DlaCore);   // Orin Nano has no DLA
            Assert.All(c.Capture.Cameras, cam => Assert.Equal(Capture.Sources.CameraSourceKind.GStreamer, cam.ResolveKind()));
            Assert.False(c.Mqtt.EmbeddedBroker);
        }
        else
        {
            Assert.Equal(["cpu"], c.Inference.Providers.Order);
        }

        if (file.StartsWith("raspberry", StringComparison.Ordinal))
        {
            Assert.Equal("qdq-int8", c.Inference.Variant);
        }
    }

    [Fact]
    public void EmbeddedDefaults_Validate_AndCommandLineOverrides()
    {
        EdgeConfiguration c = Load("--Service:CheckPaths=false", "--max-answers", "3", "--Mqtt:Host=broker.local", "--Mqtt:Port=8883", "--Mqtt:EmbeddedBroker=false", "--Mqtt:TopicPrefix=plant/line3", "--Mqtt:DeviceId=cell-7");
        Assert.Equal(3, c.Service.MaxAnswers);
        Assert.Equal(("broker.local", 8883, false, "plant/line3", "cell-7"), (c.Mqtt.Host, c.Mqtt.Port, c.Mqtt.EmbeddedBroker, c.Mqtt.TopicPrefix, c.Mqtt.DeviceId));
        Assert.Equal(["cpu"], c.Inference.Providers.Order);   // the configured order replaces the default chain
        Assert.Equal(("parcels", "How many parcels are on the belt?"), (c.Service.Questions.Single().Name, c.Service.Questions.Single().Question));
    }

    [Fact]
    public void StandingQuestion_AnswerType_IsBound_AndAnInvalidOneIsAProblemNamingItsKey()
    {
        EdgeConfiguration c = Load("--Service:CheckPaths=false", "--Service:Questions:0:AnswerType=number", "--Service:Questions:0:Min=0", "--Service:Questions:0:Max=6", "--Service:Questions:0:Integer=true");
        Core.Decoding.AnswerType type = c.Service.Questions[0].ParseAnswerType()!;
        Assert.Equal(("number", 0d, 6d, true), (type.Name, type.Min, type.Max, type.Integer));

        var ex = Assert.Throws<OptionsValidationException>(() => Load("--Service:CheckPaths=false", "--Service:Questions:0:AnswerType=choice", "--Service:Questions:0:Options:0=only"));
        Assert.Contains("Service:Questions[0]: AnswerType: options must hold 2..64 strings, got 1.", ex.Failures);
        ex = Assert.Throws<OptionsValidationException>(() => Load("--Service:CheckPaths=false", "--Service:Questions:0:AnswerType=json", "--Service:Questions:0:Schema={\"properties\": 3}"));
        Assert.Contains("Service:Questions[0]: AnswerType: schema.properties is required (an object of typed fields).", ex.Failures);
    }

    [Fact]
    public void EnvironmentVariables_Override_TheConfigFile()
    {
        Environment.SetEnvironmentVariable(Program.EnvironmentPrefix + "Mqtt__DeviceId", "from-env");
        try
        {
            Assert.Equal("from-env", Load("--Service:CheckPaths=false").Mqtt.DeviceId);
            Assert.Equal("from-args", Load("--Service:CheckPaths=false", "--Mqtt:DeviceId=from-args").Mqtt.DeviceId);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Program.EnvironmentPrefix + "Mqtt__DeviceId", null);
        }
    }

    [Fact]
    public void InvalidConfiguration_ListsEveryProblem_AtOnce()
    {
        string[] args =
        [
            "--Capture:Cameras:0:Source=/no/such/video.avi",
            "--Inference:Model=/no/such/model",
            "--Inference:Profile=sharp",
            "--Mqtt:Port=70000",
            "--Mqtt:DeviceId=bad id!",
            "--Service:QueueDepth=0",
            "--Service:Questions:0:Camera=cam9",
            "--Service:Questions:1:Camera=cam0",
            "--Service:Questions:1:Question=",
            "--Service:Questions:1:Trigger=doorbell",
            "--Triggers:Gpio:0:Name=door",
        ];
        var ex = Assert.Throws<OptionsValidationException>(() => Program.Build(args));
        string[] failures = [.. ex.Failures];
        string[] expected =
        [
            "Inference:Model '/no/such/model' does not exist",
            "Inference:Profile 'sharp'",
            "Port",
            "DeviceId",
            "Service:QueueDepth = 0",
            "Camera 'cam9' is not in Capture:Cameras",
            "Service:Questions[1]: Question must be",
            "Trigger 'doorbell'",
            "Triggers:Gpio[0]: Pin must be",
        ];
        foreach (string e in expected)
        {
            Assert.Contains(failures, f => f.Contains(e, StringComparison.Ordinal));
        }

        Assert.True(failures.Length >= expected.Length, string.Join("\n", failures));
    }

    [Fact]
    public void BadValueType_IsReported_WithTheOtherProblems()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Program.Build(["--Mqtt:Port=abc", "--Service:QueueDepth=-1"]));
        Assert.Contains(ex.Failures, f => f.Contains("Mqtt", StringComparison.Ordinal) && f.Contains("abc", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Service:QueueDepth", StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownKeys_AreProblems_NamingTheNearestValidKey()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Load("--Service:CheckPaths=false", "--Servce:QueueDepth=4", "--Inference:Modle=/x", "--Mqtt:Port=1884", "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=Hi?", "--Service:Questions:0:Intervall=3"));
        string[] failures = [.. ex.Failures];
        Assert.Contains(failures, f => f.StartsWith("Servce:", StringComparison.Ordinal) && f.Contains("did you mean 'Service'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inference:Modle:", StringComparison.Ordinal) && f.Contains("did you mean 'Inference:Model'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Service:Questions:0:Intervall:", StringComparison.Ordinal) && f.Contains("'Service:Questions:0:IntervalSeconds'", StringComparison.Ordinal));
        Assert.Equal(3, failures.Length);   // the valid keys around them are no problem
    }

    [Fact]
    public void RelativePaths_ResolveAgainstTheConfigFilesFolder_OrTheDataDirectory()
    {
        string dir = Directory.CreateTempSubdirectory("cfg-paths").FullName;
        string file = Path.Combine(dir, "device.json");
        File.WriteAllText(file, """
            { "Capture": { "Cameras": [ { "Id": "a", "Source": "clips/belt.avi" }, { "Id": "b", "Source": "rtsp://cam.local/stream" }, { "Id": "c", "Source": "0" } ] },
              "Inference": { "Model": "models/demo" },
              "Mqtt": { "Outbox": { "Directory": "state/outbox" } },
              "Service": { "CheckPaths": false } }
            """);
        EdgeConfiguration c = Load("--config", file);
        Assert.Equal(Path.Combine(dir, "clips", "belt.avi"), c.Capture.Cameras[0].Source);
        Assert.Equal("rtsp://cam.local/stream", c.Capture.Cameras[1].Source);
        Assert.Equal("0", c.Capture.Cameras[2].Source);
        Assert.Equal(Path.Combine(dir, "models", "demo"), c.Inference.Model);
        Assert.Equal(Path.Combine(dir, "state", "outbox"), c.Mqtt.Outbox.Directory);

        EdgeConfiguration d = Load("--config", file, "--Service:DataDirectory=../data");
        string data = Path.GetFullPath(Path.Combine(dir, "..", "data"));
        Assert.Equal(data, d.DataDirectory);
        Assert.Equal(Path.Combine(data, "clips", "belt.avi"), d.Capture.Cameras[0].Source);
        Assert.Equal(Path.Combine(data, "state", "outbox"), d.Mqtt.Outbox.Directory);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void TypeErrors_InOneSection_DoNotHideItsOtherProblems()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Load("--Service:CheckPaths=false", "--Service:QueueDepth=lots", "--Service:FrameHistory=-3", "--Inference:Profile=sharp", "--Mqtt:Port=abc"));
        string[] failures = [.. ex.Failures];
        Assert.Contains(failures, f => f.StartsWith("Service:QueueDepth: 'lots' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Mqtt:Port: 'abc' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Service:FrameHistory", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Inference:Profile", StringComparison.Ordinal));
    }

    [Fact]
    public void Roles_InvalidTokenSettings_AreAllListed()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Program.Build(
            ["--Service:Role=splitter", "--Service:Tokens:DType=fp8", "--Service:Tokens:MaxPacketBytes=100", "--Service:Tokens:PerCamera:cam0:DType=bf16"]));
        string[] failures = [.. ex.Failures];
        foreach (string e in new[] { "Service:Role 'splitter'", "Service:Tokens:DType 'fp8'", "Service:Tokens:MaxPacketBytes = 100", "PerCamera:cam0:DType 'bf16'" })
        {
            Assert.Contains(failures, f => f.Contains(e, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Decoder_NeedsNoCameras_ButItsCamerasAndNoStandingQuestions()
    {
        string dir = Directory.CreateTempSubdirectory("llava-decoder-cfg-").FullName;
        string file = Path.Combine(dir, "decoder.json");
        File.WriteAllText(file, $$"""{ "Inference": { "Model": "{{TinyModel.Dir}}" }, "Service": { "Role": "decoder", "Tokens": { "Cameras": [ "cam0", "dock" ], "SourceDevice": "gate-1" } } }""");
        EdgeConfiguration ok = Load("--config", file);
        Assert.True(ok.Service.IsDecoder);
        Assert.Empty(ok.Capture.Cameras);
        Assert.Equal("llavauhd/gate-1/+/tokens", Program.TokenSource(ok).TokensFilter);

        File.WriteAllText(file, """{ "Service": { "Role": "decoder", "Tokens": { "SourceDevice": "bad id!" }, "Questions": [ { "Camera": "cam0", "Question": "hi" } ] } }""");
        var ex = Assert.Throws<OptionsValidationException>(() => Load("--config", file));
        Assert.Contains(ex.Failures, f => f.Contains("Service:Tokens:Cameras is empty", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Service:Tokens:SourceDevice 'bad id!'", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("a decoder has no cameras, so no standing questions", StringComparison.Ordinal));
        Assert.DoesNotContain(ex.Failures, f => f.Contains("Cameras is empty; configure at least one camera", StringComparison.Ordinal));
    }
}
