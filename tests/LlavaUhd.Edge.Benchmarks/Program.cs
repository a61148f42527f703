using BenchmarkDotNet.Running;
using LlavaUhd.Edge.Benchmarks.Messaging;

if (args is ["messaging", ..])
{
    // Not BenchmarkDotNet: loopback round trips need p99, and a broker process around them.
    return await MessagingProbe.RunAsync(args[1..]);
}

if (args is ["service", ..])
{
    // The whole service in-process: question → answer overhead outside the model.
    return await LlavaUhd.Edge.Benchmarks.Service.ServiceProbe.RunAsync(args[1..]);
}

if (args is ["soak", ..])
{
    // The service as a child process for N minutes (default 30): RSS, handles and threads flat, every valid question answered.
    return await LlavaUhd.Edge.Benchmarks.Service.SoakProbe.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
