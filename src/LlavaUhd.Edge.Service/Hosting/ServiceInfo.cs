using CameraSnapshot = LlavaUhd.Edge.Capture.Sources.CameraStatus;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Messaging.Outbox;
using LlavaUhd.Edge.Service.Work;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlavaUhd.Edge.Service.Hosting;

/// <summary>What the status reports about the model and the build, supplied by the composition root.</summary>
internal sealed record ServiceInfo(string DeviceId, IReadOnlyDictionary<string, string> Versions, Func<string> EngineState);
