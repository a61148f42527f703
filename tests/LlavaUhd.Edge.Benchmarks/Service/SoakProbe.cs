using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlavaUhd.Edge.Benchmarks.Messaging;
using LlavaUhd.Edge.Core.Diagnostics;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace LlavaUhd.Edge.Benchmarks.Service;

/// <summary>
/// The soak benchmark: the real service as a child process (its embedded defaults: the demo model, the embedded
/// broker; a 1280×720 test-pattern camera) under questions at the model's throughput — two askers, each sending its
/// next question when the previous one is answered — with one malformed message in ten mixed in (bad JSON, a wrong
/// field type, an unknown camera, a reserved token, an oversized payload, a lone surrogate, binary garbage, an empty
/// payload). Every 10 s it samples the service's RSS, open file descriptors and threads from /proc; at the end it
/// compares the first and last fifth of the run and counts every valid question answered.
/// <c>dotnet run -c Release --project tests/LlavaUhd.Edge.Benchmarks -- soak [minutes] [--Key=value …]</c>.
/// </summary>
internal static class SoakProbe
{
    private static readonly (string Kind, Func<byte[]> Payload, string Camera)[] s_malformed =
    [
        ("invalid_json", () => "{\"question\": "u8.ToArray(), "cam0"),
        ("invalid_field", () => "{\"question\": 42}"u8.ToArray(), "cam0"),
        ("unknown_camera", () => "{\"question\": \"Anything?\"}"u8.ToArray(), "nocam"),
        ("reserved_token", () => "{\"question\": \"What is <image> here?\"}"u8.ToArray(), "cam0"),
        ("payload_too_large", () => Encoding.UTF8.GetBytes("{\"question\": \"" + new string('x', 40_000) + "\"}"), "cam0"),
        ("lone_surrogate", () => "{\"question\": \"\\ud83d?\"}"u8.ToArray(), "cam0"),
        ("garbage", () => [0xFF, 0xFE, 0x00, 0x7B, 0xC3], "cam0"),
        ("empty", () => [], "cam0"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        double minutes = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? double.Parse(args[0], CultureInfo.InvariantCulture) : 30;
        string[] overrides = [.. args.Where(a => a.StartsWith("--", StringComparison.Ordinal))];
        string dir = Directory.CreateTempSubdirectory("llava-soak-").FullName;
        int port = MessagingProbe.FreePort();
        string service = Path.Combine(AppContext.BaseDirectory, "LlavaUhd.Edge.Service.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot() };
        foreach (string a in (string[])[service, "--Mqtt:EmbeddedBroker=true", $"--Mqtt:Port={port}", $"--Mqtt:Username={MessagingProbe.User}", $"--Mqtt:Password={MessagingProbe.Password}",
            "--Mqtt:DeviceId=soak", $"--Mqtt:Outbox:Directory={Path.Combine(dir, "outbox")}", "--Capture:Cameras:0:Id=cam0",
            "--Capture:Cameras:0:Source=testpattern:1280x720", "--Capture:Cameras:0:Fps=15", "--Service:Questions:0:Enabled=false",
            "--Logging:LogLevel:Default=Warning", "--Mqtt:StatsIntervalSeconds=10", "--Http:Port=0", .. overrides])
        {
            info.ArgumentList.Add(a);
        }

        using Process proc = Process.Start(info)!;
        long logBytes = 0;
        proc.OutputDataReceived += (_, e) => Interlocked.Add(ref logBytes, (e.Data?.Length ?? 0) + 1);
        proc.ErrorDataReceived += (_, e) => Interlocked.Add(ref logBytes, (e.Data?.Length ?? 0) + 1);
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        try
        {
            using IMqttClient client = new MqttClientFactory().CreateMqttClient();
            var sw0 = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("soak-asker")
                        .WithProtocolVersion(MqttProtocolVersion.V500).WithCredentials(MessagingProbe.User, MessagingProbe.Password).Build());
                    break;
                }
                catch (Exception) when (sw0.Elapsed < TimeSpan.FromMinutes(3) && !proc.HasExited)
                {
                    await Task.Delay(500);
                }
            }

            var waiting = new ConcurrentDictionary<string, TaskCompletionSource<JsonElement>>();
            var refusals = new ConcurrentDictionary<string, int>();
            long managedHeap = 0;
            client.ApplicationMessageReceivedAsync += e =>
            {
                if (e.ApplicationMessage.Topic.EndsWith("/stats", StringComparison.Ordinal))
                {
                    using JsonDocument stats = JsonDocument.Parse(e.ApplicationMessage.Payload);
                    Interlocked.Exchange(ref managedHeap, stats.RootElement.GetProperty("managed_heap_bytes").GetInt64());
                    return Task.CompletedTask;
                }

                JsonElement reply = JsonDocument.Parse(e.ApplicationMessage.Payload).RootElement.Clone();
                string key = Encoding.UTF8.GetString(e.ApplicationMessage.CorrelationData);
                if (waiting.TryRemove(key, out TaskCompletionSource<JsonElement>? tcs))
                {
                    tcs.TrySetResult(reply);
                }

                return Task.CompletedTask;
            };
            await client.SubscribeAsync("soak/replies", MqttQualityOfServiceLevel.AtLeastOnce);
            await client.SubscribeAsync("llavauhd/soak/stats", MqttQualityOfServiceLevel.AtMostOnce);

            // the first answer (model load, package build) before the clock starts
            await AskAsync(client, waiting, "cam0", Encoding.UTF8.GetBytes("{\"question\":\"How many parcels are on the belt?\"}"), "warm-up", TimeSpan.FromMinutes(5));

            Console.WriteLine($"soak: {minutes} min; the service (pid {proc.Id}) on its embedded defaults + {string.Join(' ', overrides)}; two askers at the model's throughput, 1 malformed message in 10");
            Console.WriteLine("minute | valid answered | malformed refused | unanswered | RSS MB | managed heap MB | fds | threads");
            var samples = new List<(double Min, double RssMb, double HeapMb, int Fds, int Threads)>();
            long answered = 0, unanswered = 0, malformedSent = 0, refused = 0, seq = 0;
            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
            var clock = Stopwatch.StartNew();

            async Task AskerAsync(int who)
            {
                var rng = new Random(who);
                while (!stop.IsCancellationRequested)
                {
                    long n = Interlocked.Increment(ref seq);
                    if (n % 10 == 0)
                    {
                        (string kind, Func<byte[]> payload, string camera) = s_malformed[rng.Next(s_malformed.Length)];
                        Interlocked.Increment(ref malformedSent);
                        JsonElement? r = await AskAsync(client, waiting, camera, payload(), $"m{n}", TimeSpan.FromSeconds(30));
                        if (r is { } reply && reply.TryGetProperty("error", out JsonElement code))
                        {
                            Interlocked.Increment(ref refused);
                            refusals.AddOrUpdate($"{kind} → {code.GetString()}", 1, (_, c) => c + 1);
                        }

                        continue;
                    }

                    JsonElement? answer = await AskAsync(client, waiting, "cam0", "{\"question\":\"How many parcels are on the belt?\",\"max_tokens\":4}"u8.ToArray(), $"v{n}", TimeSpan.FromSeconds(60));
                    if (answer is { } a && !a.TryGetProperty("error", out _))
                    {
                        Interlocked.Increment(ref answered);
                    }
                    else
                    {
                        Interlocked.Increment(ref unanswered);
                    }
                }
            }

            Task askers = Task.WhenAll(AskerAsync(1), AskerAsync(2));
            double nextPrint = 1;
            while (!askers.IsCompleted)
            {
                await Task.WhenAny(askers, Task.Delay(10_000));
                (double rss, int fds, int threads) = Sample(proc.Id);
                double m = clock.Elapsed.TotalMinutes;
                double heap = Interlocked.Read(ref managedHeap) / 1048576.0;
                samples.Add((m, rss, heap, fds, threads));
                if (m >= nextPrint || askers.IsCompleted)
                {
                    nextPrint = Math.Floor(m) + 1;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{m,6:0.0} | {Interlocked.Read(ref answered),14} | {Interlocked.Read(ref refused),17} | {Interlocked.Read(ref unanswered),10} | {rss,6:0.0} | {heap,15:0.0} | {fds,3} | {threads,7}"));
                }
            }

            await askers;
            int fifth = Math.Max(1, samples.Count / 5);
            var first = samples.Take(fifth).ToList();
            var last = samples.TakeLast(fifth).ToList();
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"valid questions: {answered + unanswered}, answered {answered}, unanswered {unanswered}; malformed: {malformedSent} sent, {refused} refused with an error reply"));
            foreach ((string k, int c) in refusals.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {k}: {c}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RSS MB median, first fifth {SampleStatistics.Median(first.Select(s => s.RssMb)):0.0} → last fifth {SampleStatistics.Median(last.Select(s => s.RssMb)):0.0} (max {samples.Max(s => s.RssMb):0.0}); " +
                $"managed heap MB {SampleStatistics.Median(first.Select(s => s.HeapMb)):0.0} → {SampleStatistics.Median(last.Select(s => s.HeapMb)):0.0}; " +
                $"fds {SampleStatistics.Median(first.Select(s => (double)s.Fds)):0} → {SampleStatistics.Median(last.Select(s => (double)s.Fds)):0} (max {samples.Max(s => s.Fds)}); " +
                $"threads {SampleStatistics.Median(first.Select(s => (double)s.Threads)):0} → {SampleStatistics.Median(last.Select(s => (double)s.Threads)):0} (max {samples.Max(s => s.Threads)}); " +
                $"service log {Interlocked.Read(ref logBytes) / 1024.0:0} KB"));
            await client.DisconnectAsync();
            return unanswered == 0 && refused == malformedSent ? 0 : 1;
        }
        finally
        {
            if (!proc.HasExited)
            {
                proc.Kill(entireProcessTree: true);
                await proc.WaitForExitAsync();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<JsonElement?> AskAsync(IMqttClient client, ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> waiting, string camera, byte[] payload, string key, TimeSpan timeout)
    {
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting[key] = tcs;
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"llavauhd/soak/{camera}/ask").WithPayload(payload)
            .WithResponseTopic("soak/replies").WithCorrelationData(Encoding.UTF8.GetBytes(key))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        try
        {
            return await tcs.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            waiting.TryRemove(key, out _);
            return null;
        }
    }

    private static (double RssMb, int Fds, int Threads) Sample(int pid)
    {
        double rss = 0;
        int threads = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return (rss, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length, threads);
    }

    private static string RepoRoot()
    {
        string? d = AppContext.BaseDirectory;
        while (d is not null && !File.Exists(Path.Combine(d, "LlavaUhd.Edge.sln")))
        {
            d = Path.GetDirectoryName(d);
        }

        return d ?? Environment.CurrentDirectory;
    }
}
