using BenchmarkDotNet.Running;
using LlavaUhd.Edge.Benchmarks.Messaging;

if (args is ["messaging", ..])
{
    // Not BenchmarkDotNet: loopback round trips need p99, and a broker process around them.
    return await MessagingProbe.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
