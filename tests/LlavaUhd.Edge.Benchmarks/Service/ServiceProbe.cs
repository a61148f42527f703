using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Benchmarks.Messaging;
using LlavaUhd.Edge.Core.Diagnostics;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.ModelBuilder.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Benchmarks.Service;

/// <summary>
/// Question → answer through the WHOLE service (Program.Build in-process, the generated tiny-smolvlm model, a 640×480
/// test-pattern camera) on loopback: MQTT 5 request, frame lookup, model queue, model, answer JSON, outbox, reply.
/// The overhead outside the model is each round trip minus the model's own wall time (the answer's
/// <c>timings.total_ms</c>, measured around encode + answer); the model time is reported separately.
/// <c>dotnet run -c Release --project tests/LlavaUhd.Edge.Benchmarks -- service [requests [--Key=value …]]</c>.
/// </summary>
internal static class ServiceProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
        string[] overrides = args.Length > 1 ? args[1..] : [];   // e.g. --Inference:PixelThreads=1
        string dir = Directory.CreateTempSubdirectory("llava-service-probe-").FullName;
        try
        {
            string model = Path.Combine(dir, "tiny-smolvlm");
            PackageGenerator.Generate(ModelPreset.Get(ModelPreset.TinySmolVlm), model, seed: 7);
            Console.WriteLine($"{requests} sequential MQTT 5 requests (QoS 1) after 50 warm-up; tiny-smolvlm, 1 new token, fast profile, 640x480 test pattern");
            Console.WriteLine("broker     | round trip p50 / p99 ms | model p50 / p99 ms | overhead outside the model p50 / p99 ms");
            if (File.Exists("/usr/sbin/mosquitto"))
            {
                int port = MessagingProbe.FreePort();
                using Process mosquitto = MessagingProbe.StartMosquitto(dir, port);
                try
                {
                    await MeasureAsync("mosquitto", port, embedded: false, model, dir, requests, overrides);
                }
                finally
                {
                    mosquitto.Kill();
                    await mosquitto.WaitForExitAsync();
                }
            }

            await MeasureAsync("embedded", MessagingProbe.FreePort(), embedded: true, model, dir, requests, overrides);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task MeasureAsync(string broker, int port, bool embedded, string model, string dir, int requests, string[] overrides)
    {
        string[] args =
        [
            $"--Mqtt:EmbeddedBroker={(embedded ? "true" : "false")}", string.Create(CultureInfo.InvariantCulture, $"--Mqtt:Port={port}"),
            $"--Mqtt:Username={MessagingProbe.User}", $"--Mqtt:Password={MessagingProbe.Password}", "--Mqtt:DeviceId=probe",
            $"--Mqtt:Outbox:Directory={Path.Combine(dir, "outbox-" + broker)}",
            "--Capture:Cameras:0:Id=cam0", "--Capture:Cameras:0:Source=testpattern:640x480", "--Capture:Cameras:0:Fps=15",
            $"--Inference:Model={model}", "--Inference:MaxNewTokens=1", "--Inference:Profile=fast",
            "--Service:Questions:0:Enabled=false", "--Logging:LogLevel:Default=Warning", "--Http:Port=0",
        ];
        using IHost host = LlavaUhd.Edge.Service.Program.Build([.. args, .. overrides], logging: l => l.SetMinimumLevel(LogLevel.Warning));
        await host.StartAsync();
        try
        {
            await host.Services.GetRequiredService<EdgeMqttClient>().WaitConnectedAsync();
            using IMqttClient client = new MqttClientFactory().CreateMqttClient();
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("probe-asker")
                .WithProtocolVersion(MqttProtocolVersion.V500).WithCredentials(MessagingProbe.User, MessagingProbe.Password).Build());
            TaskCompletionSource<MqttApplicationMessage>? pending = null;
            client.ApplicationMessageReceivedAsync += e =>
            {
                pending?.TrySetResult(e.ApplicationMessage);
                return Task.CompletedTask;
            };
            await client.SubscribeAsync("probe/replies", MqttQualityOfServiceLevel.AtLeastOnce);
            byte[] payload = Encoding.UTF8.GetBytes("""{"question":"What is there?"}""");
            var rtt = new List<double>();
            var modelMs = new List<double>();
            var overhead = new List<double>();
            var queue = new List<double>();
            long allocated = 0;
            int gen0 = 0, gen1 = 0, gen2 = 0;
            TimeSpan paused = TimeSpan.Zero;
            for (int i = 0; i < requests + 50; i++)
            {
                if (i == 50)
                {
                    (allocated, gen0, gen1, gen2, paused) = (GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                }

                pending = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
                long start = Stopwatch.GetTimestamp();
                await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("llavauhd/probe/cam0/ask").WithPayload(payload)
                    .WithResponseTopic("probe/replies").WithCorrelationData(BitConverter.GetBytes(i))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                MqttApplicationMessage reply = await pending.Task.WaitAsync(TimeSpan.FromSeconds(30));
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                using JsonDocument doc = JsonDocument.Parse(reply.ConvertPayloadToString());
                double inModel = doc.RootElement.GetProperty("timings").GetProperty("total_ms").GetDouble();
                double queued = doc.RootElement.GetProperty("timings").GetProperty("queue_ms").GetDouble();
                if (i >= 50)
                {
                    queue.Add(queued);
                    rtt.Add(ms);
                    modelMs.Add(inModel);
                    overhead.Add(ms - inModel);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{broker,-10} | {P(rtt, 50),7:0.00} / {P(rtt, 99),7:0.00}       | {P(modelMs, 50),6:0.00} / {P(modelMs, 99),6:0.00}    | {P(overhead, 50),6:0.00} / {P(overhead, 99),6:0.00}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"",-10}   in the model queue p50 / p99 ms {P(queue, 50):0.00} / {P(queue, 99):0.00}; allocated per request {(GC.GetTotalAllocatedBytes() - allocated) / requests / 1024.0:0.0} KiB (whole process); GCs gen0/1/2 {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}, paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:0.0} ms"));
            await client.DisconnectAsync();
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static double P(List<double> values, double percent) => SampleStatistics.Percentile(values, percent);
}
