using System.Text.Json;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.Messaging;
using LlavaUhd.Edge.Messaging.Contracts;
using LlavaUhd.Edge.Service.Hosting;
using LlavaUhd.Edge.Service.Options;
using LlavaUhd.Edge.Service.Work;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// The HTTP endpoints (docs/http.md): <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/api/status</c>,
/// <c>/api/cameras/{camera}/snapshot.jpg</c> and the status page <c>/</c>. A request that fails is answered 500 and
/// logged; it never reaches the service's other work.
/// </summary>
internal static class HttpEndpoints
{
    public const string JsonType = "application/json; charset=utf-8";

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        IServiceProvider sp = app.Services;
        StatusService status = sp.GetRequiredService<StatusService>();
        IEdgePublisher mqtt = sp.GetRequiredService<IEdgePublisher>();
        ModelWorker worker = sp.GetRequiredService<ModelWorker>();
        SnapshotRenderer snapshots = sp.GetRequiredService<SnapshotRenderer>();
        AnswerLog answers = sp.GetRequiredService<AnswerLog>();
        EdgeConfiguration config = sp.GetRequiredService<EdgeConfiguration>();
        ILogger logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("LlavaUhd.Edge.Service.Http");

        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                logger.LogError(ex, "HTTP: {Method} {Path} failed: {Message}", context.Request.Method, context.Request.Path, ex.Message);
                if (!context.Response.HasStarted)
                {
                    await Error(context, StatusCodes.Status500InternalServerError, ErrorCodes.Internal, ex.Message).ConfigureAwait(false);
                }
            }
        });

        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok\n", "text/plain; charset=utf-8"));
        app.MapGet("/readyz", (HttpContext context) =>
        {
            ReadinessReport report = Readiness(status.Status(), mqtt.IsConnected, requireCamera: !config.Service.IsDecoder);
            context.Response.StatusCode = report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = JsonType;
            return context.Response.WriteAsync(JsonSerializer.Serialize(report, HttpJsonContext.Default.ReadinessReport), context.RequestAborted);
        });
        app.MapGet("/api/status", (HttpContext context) =>
        {
            context.Response.ContentType = JsonType;
            return context.Response.Body.WriteAsync(
                JsonSerializer.SerializeToUtf8Bytes(status.Status(), MessagingJsonContext.Default.StatusMessage), context.RequestAborted).AsTask();
        });
        app.MapGet("/api/cameras/{camera}/snapshot.jpg", (HttpContext context, string camera) => Snapshot(context, snapshots, camera));
        app.MapGet("/", (HttpContext context) =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            return context.Response.WriteAsync(StatusPage.Render(status.Status(), worker.Depth, answers.Latest()), context.RequestAborted);
        });
    }

    /// <summary>Ready when the model is loaded (no TensorRT engine still building), a camera is live (unless <paramref name="requireCamera"/> is false: the decoder) and the broker is connected.</summary>
    public static ReadinessReport Readiness(StatusMessage status, bool brokerConnected, bool requireCamera)
    {
        ArgumentNullException.ThrowIfNull(status);
        bool model = status.EngineState != SessionStatus.Building;
        string[] live = [.. status.Cameras.Where(c => c.State == "live").Select(c => c.Id)];
        var missing = new List<string>(3);
        if (!model)
        {
            missing.Add("model");
        }

        if (requireCamera && live.Length == 0)
        {
            missing.Add("camera");
        }

        if (!brokerConnected)
        {
            missing.Add("broker");
        }

        return new ReadinessReport(missing.Count == 0, missing, model, status.EngineState, live, brokerConnected);
    }

    private static Task Snapshot(HttpContext context, SnapshotRenderer snapshots, string camera)
    {
        string? overlay = context.Request.Query["overlay"];
        if (!SnapshotRenderer.TryParseOverlays(overlay, out SnapshotOverlays overlays, out string? unknown))
        {
            return Error(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidField,
                $"overlay '{unknown}' is not one of roi, slices (e.g. ?overlay=roi,slices).");
        }

        long? sequence = null;
        string? frame = context.Request.Query["frame"];
        if (frame is not null)
        {
            if (!long.TryParse(frame, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n))
            {
                return Error(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidField,
                    $"frame '{frame}' is not a frame sequence number (an answer's frame_sequence).");
            }

            sequence = n;
        }

        switch (snapshots.TryRender(camera, overlays, sequence, out byte[]? jpeg, exact: true))
        {
            case SnapshotStatus.UnknownFrame:
                return Error(context, StatusCodes.Status404NotFound, "unknown_frame",
                    $"Frame {sequence} of camera '{camera}' is not held (the last Service:FrameHistory answered frames are).");
            case SnapshotStatus.UnknownCamera:
                return Error(context, StatusCodes.Status404NotFound, ErrorCodes.UnknownCamera, $"There is no camera '{camera}' on this device.");
            case SnapshotStatus.NoFrame:
                return Error(context, StatusCodes.Status503ServiceUnavailable, "no_frame", $"Camera '{camera}' has not delivered a frame yet.");
            default:
                context.Response.ContentType = "image/jpeg";
                context.Response.Headers.CacheControl = "no-store";
                return context.Response.Body.WriteAsync(jpeg, context.RequestAborted).AsTask();
        }
    }

    private static Task Error(HttpContext context, int statusCode, string code, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = JsonType;
        return context.Response.WriteAsync(JsonSerializer.Serialize(new HttpError(code, message), HttpJsonContext.Default.HttpError), context.RequestAborted);
    }
}
