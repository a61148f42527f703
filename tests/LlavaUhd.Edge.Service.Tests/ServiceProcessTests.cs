using System.Text.Json;
using LlavaUhd.Edge.Service.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace LlavaUhd.Edge.Service.Tests;

/// <summary>The built service as a child process: the Last Will when it dies, --max-answers, exit code on bad config.</summary>
[Collection(MosquittoCollection.Name)]
public sealed class ServiceProcessTests(MosquittoFixture broker) : IDisposable
{
    private readonly string _outbox = Directory.CreateTempSubdirectory("llava-svc-proc-").FullName;

    [Fact]
    public async Task Will_Fires_WhenTheServiceDies()
    {
        string device = "proc-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient client = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"llavauhd/{device}/available");
        await using ServiceProcess service = ServiceProcess.Start(ServiceHarness.Args(broker.Port, false, device, _outbox, "--Mqtt:KeepAliveSeconds=5"));
        MqttApplicationMessage online = await client.NextAsync(timeoutSeconds: 60);
        Assert.Equal("online", online.ConvertPayloadToString());

        service.Kill();   // no DISCONNECT: the broker publishes the will
        MqttApplicationMessage will = await client.NextAsync(timeoutSeconds: 20);
        Assert.Equal("offline", will.ConvertPayloadToString());
    }

    [Fact]
    public async Task MainJob_MaxAnswers_EndsAfterNAnswers()
    {
        string device = "proc-" + Guid.NewGuid().ToString("N")[..8];
        await using TestClient client = await TestClient.ConnectAsync(broker.Port, MqttProtocolVersion.V500, $"llavauhd/{device}/cam0/answer");
        await using ServiceProcess service = ServiceProcess.Start(ServiceHarness.Args(broker.Port, false, device, _outbox,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Question=What is there?", "--Service:Questions:0:IntervalSeconds=0.2",
            "--max-answers", "3"));
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(90)), service.Output);
        Assert.Equal(0, service.ExitCode);
        List<MqttApplicationMessage> answers = await client.CollectAsync(4, timeoutSeconds: 3);
        Assert.Equal(3, answers.Count);
        Assert.Equal(3, answers.Select(a => JsonDocument.Parse(a.ConvertPayloadToString()).RootElement.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(3, service.Output.Split('\n').Count(l => l.Contains("Answer cam0 [", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task InvalidConfiguration_ExitsWithCode2_ListingEveryProblem()
    {
        await using ServiceProcess service = ServiceProcess.Start(["--Mqtt:Port=0", "--Service:QueueDepth=0", "--Inference:Profile=sharp"]);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(60)), service.Output);
        Assert.True(service.ExitCode == 2, service.Output);
        Assert.Contains("Invalid configuration", service.Output, StringComparison.Ordinal);
        Assert.Contains("Service:QueueDepth", service.Output, StringComparison.Ordinal);
        Assert.Contains("Inference:Profile", service.Output, StringComparison.Ordinal);
        Assert.Contains("Port", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StandingQuestionWithAReservedToken_IsAConfigurationError_NamingIt()
    {
        string device = "proc-" + Guid.NewGuid().ToString("N")[..8];
        await using ServiceProcess service = ServiceProcess.Start(ServiceHarness.Args(broker.Port, false, device, _outbox,
            "--Service:Questions:0:Camera=cam0", "--Service:Questions:0:Name=bad", "--Service:Questions:0:Question=Describe <image> please",
            "--Service:Questions:0:IntervalSeconds=1"));
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(90)), service.Output);
        Assert.True(service.ExitCode == 2, service.Output);
        Assert.Contains("Service:Questions:0:Question (bad): reserved_token", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);   // one line, no stack trace
    }

    [Fact]
    public async Task MalformedConfigFile_ExitsWithCode2_NamingLineAndColumn()
    {
        string file = Path.Combine(_outbox, "broken.json");
        await File.WriteAllTextAsync(file, "{\n  \"Service\": {\n    \"QueueDepth\": 4,,\n  }\n}\n");
        await using ServiceProcess service = ServiceProcess.Start(["--config", file]);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(60)), service.Output);
        Assert.True(service.ExitCode == 2, service.Output);
        Assert.Contains($"{file}: line 3, column", service.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_outbox, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
