using System.Globalization;
using System.Net;
using System.Text;
using LlavaUhd.Edge.Messaging.Contracts;

namespace LlavaUhd.Edge.Service.Http;

/// <summary>
/// The one-page status view at <c>/</c> (docs/http.md): server-rendered HTML with inline CSS, refreshed by the browser
/// every 5 s. Everything that comes from configuration or the network (questions, answers, camera states) is
/// HTML-encoded. Element ids and classes are stable for tests and scrapers: <c>#device</c>, <c>#cameras</c> with one
/// <c>.camera</c> per camera (<c>data-camera</c>, <c>.state</c>, <c>img.snapshot</c>), <c>#answers</c> with one
/// <c>tr.answer</c> per answer.
/// </summary>
internal static class StatusPage
{
    public const int RefreshSeconds = 5;

    private const string Css = """
        body{font-family:system-ui,sans-serif;margin:1rem;background:#f6f7f9;color:#222}
        h1{font-size:1.3rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1rem 0 .4rem}
        dl#device{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;margin:0}
        dt{font-weight:600}dd{margin:0}
        #cameras{display:flex;flex-wrap:wrap;gap:1rem}
        .camera{background:#fff;border:1px solid #ccd;border-radius:6px;padding:.5rem}
        .camera img{display:block;width:320px;height:auto;background:#ddd}
        .state-live{color:#070}.state-other{color:#a00}
        table{border-collapse:collapse;background:#fff;width:100%}
        td,th{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
        """;

    public static string Render(StatusMessage status, int queueDepth, IReadOnlyList<AnswerMessage> answers)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(answers);
        var html = new StringBuilder(4096);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\">")
            .Append("<title>").Append(E(status.Device)).Append(" · LlavaUhd.Edge</title><style>").Append(Css).Append("</style></head><body>")
            .Append("<h1>LlavaUhd.Edge · ").Append(E(status.Device)).Append("</h1>")
            .Append("<dl id=\"device\">");
        Field(html, "device", status.Device);
        Field(html, "model", status.Model);
        Field(html, "provider", status.Provider);
        Field(html, "engine", status.EngineState);
        Field(html, "queue", queueDepth.ToString(CultureInfo.InvariantCulture));
        html.Append("</dl>");

        html.Append("<h2>Cameras</h2><div id=\"cameras\">");
        foreach (CameraStatus camera in status.Cameras)
        {
            string state = camera.State ?? "unknown";
            string id = E(camera.Id);
            html.Append("<div class=\"camera\" data-camera=\"").Append(id).Append("\">")
                .Append("<h3 class=\"name\">").Append(id).Append("</h3>")
                .Append("<div class=\"state ").Append(state == "live" ? "state-live" : "state-other").Append("\">").Append(E(state)).Append("</div>");
            if (!camera.Enabled)
            {
                html.Append("<div class=\"disabled\">disabled</div>");
            }

            if (camera.Question is { } q)
            {
                html.Append("<div class=\"question\">").Append(E(q)).Append("</div>");
            }

            html.Append("<img class=\"snapshot\" width=\"320\" alt=\"latest frame of ").Append(id).Append("\" src=\"/api/cameras/")
                .Append(E(Uri.EscapeDataString(camera.Id))).Append("/snapshot.jpg?overlay=roi,slices\"></div>");
        }

        html.Append("</div>");

        html.Append("<h2>Last answers</h2><table id=\"answers\"><thead><tr><th>time</th><th>camera</th><th>question</th><th>answer</th><th>value</th><th>latency</th></tr></thead><tbody>");
        foreach (AnswerMessage a in answers)
        {
            html.Append("<tr class=\"answer\">")
                .Append("<td class=\"time\">").Append(E(a.AnswerTimestamp.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))).Append("</td>")
                .Append("<td class=\"camera\">").Append(E(a.Camera)).Append("</td>")
                .Append("<td class=\"question\">").Append(E(a.Question)).Append("</td>")
                .Append("<td class=\"text\">").Append(E(a.Answer)).Append("</td>")
                .Append("<td class=\"value\">").Append(a.Value is { } v ? E(v.GetRawText()) : string.Empty).Append("</td>")
                .Append("<td class=\"latency\">").Append(E(Latency(a.Timings))).Append("</td></tr>");
        }

        if (answers.Count == 0)
        {
            html.Append("<tr class=\"empty\"><td colspan=\"6\">no answers yet</td></tr>");
        }

        html.Append("</tbody></table></body></html>");
        return html.ToString();
    }

    private static void Field(StringBuilder html, string name, string? value) =>
        html.Append("<dt>").Append(name).Append("</dt><dd id=\"").Append(name).Append("\">").Append(E(value ?? "")).Append("</dd>");

    private static string Latency(AnswerTimings t) =>
        string.Create(CultureInfo.InvariantCulture, $"{t.TotalMs:0} ms") + (t.QueueMs is { } q ? string.Create(CultureInfo.InvariantCulture, $" (+{q:0} ms queued)") : string.Empty);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
