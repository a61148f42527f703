namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>What the status reports about the model and the build, supplied by the composition root.</summary>
internal sealed record ServiceInfo(string DeviceId, IReadOnlyDictionary<string, string> Versions, Func<string> EngineState);
