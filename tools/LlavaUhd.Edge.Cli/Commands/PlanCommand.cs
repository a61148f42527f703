using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlavaUhd.Edge.Core.Slicing;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>plan</c>: prints the slice plan of one size (<c>--width/--height</c>) or of every <c>W H</c> line on standard
/// input, one JSON object per line, so thousands of sizes run in one process.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var slicing = new SlicingArguments();
        var width = new Option<int?>("--width") { Description = "Image width; with --height plans one size instead of reading stdin." };
        var height = new Option<int?>("--height") { Description = "Image height." };
        var views = new Option<bool>("--views") { Description = "Also print every view (name, size, footprint, tokens) and the total tokens." };
        var command = new Command("plan", "Print the slice plan of image sizes as JSON lines (sizes from --width/--height or 'W H' lines on stdin).");
        slicing.AddTo(command);
        command.Options.Add(width);
        command.Options.Add(height);
        command.Options.Add(views);
        command.SetAction(result =>
        {
            SlicingOptions options;
            try
            {
                options = slicing.Bind(result);
            }
            catch (SlicingException ex)
            {
                Console.Error.WriteLine($"plan: {ex.Message}");
                return ExitCodes.Usage;
            }

            int? w = result.GetValue(width);
            int? h = result.GetValue(height);
            if (w.HasValue != h.HasValue)
            {
                Console.Error.WriteLine("plan: give both --width and --height, or neither (then sizes are read from stdin).");
                return ExitCodes.Usage;
            }

            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
            int code = w.HasValue
                ? Run(options, [$"{w} {h}"], stdout, result.GetValue(views))
                : Run(options, ReadLines(Console.In), stdout, result.GetValue(views));
            stdout.Flush();
            return code;
        });
        return command;
    }

    /// <summary>Plans every line of <paramref name="lines"/>; returns 0 when all planned, 1 when any line failed.</summary>
    public static int Run(SlicingOptions options, IEnumerable<string> lines, TextWriter output, bool includeViews = false)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        bool anyFailed = false;
        int lineNumber = 0;
        foreach (string raw in lines)
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            buffer.ResetWrittenCount();
            json.Reset(buffer);
            if (!TryParseSize(line, out int? w, out int? h, out string? parseError))
            {
                anyFailed = true;
                WriteError(json, w, h, $"line {lineNumber}: {parseError}");
            }
            else
            {
                try
                {
                    SlicePlan plan = SlicePlanner.Plan(w!.Value, h!.Value, options);
                    WritePlan(json, plan, includeViews);
                }
                catch (SlicingException ex)
                {
                    anyFailed = true;
                    WriteError(json, w, h, ex.Message);
                }
            }

            json.Flush();
            output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
            output.Write('\n');
        }

        return anyFailed ? ExitCodes.Failed : ExitCodes.Ok;
    }

    internal static void WritePlan(Utf8JsonWriter json, SlicePlan plan, bool includeViews)
    {
        json.WriteStartObject();
        json.WriteNumber("w", plan.Original.Width);
        json.WriteNumber("h", plan.Original.Height);
        if (plan.Scheme == SliceScheme.Idefics3)
        {
            WriteSize(json, "resized", plan.Refined);
            json.WriteNumber("rows", plan.Grid?.Rows ?? 0);
            json.WriteNumber("cols", plan.Grid?.Columns ?? 0);
            WriteSize(json, "global", plan.Overview);
        }
        else
        {
            if (plan.Grid is GridSize g)
            {
                json.WriteStartArray("grid");
                json.WriteNumberValue(g.Columns);
                json.WriteNumberValue(g.Rows);
                json.WriteEndArray();
            }
            else
            {
                json.WriteNull("grid");
            }

            WriteSize(json, "overview", plan.Overview);
            WriteSize(json, "refined", plan.Refined);
            WriteSize(json, "slice", plan.SliceSize);
        }

        if (includeViews)
        {
            json.WriteNumber("tokens", plan.TotalTokens);
            json.WriteStartArray("views");
            foreach (SliceView v in plan.Views)
            {
                json.WriteStartObject();
                json.WriteString("name", v.Name);
                WriteSize(json, "size", v.Size);
                json.WriteStartArray("footprint");
                json.WriteNumberValue(v.Footprint.X);
                json.WriteNumberValue(v.Footprint.Y);
                json.WriteNumberValue(v.Footprint.Width);
                json.WriteNumberValue(v.Footprint.Height);
                json.WriteEndArray();
                json.WriteNumber("tokens", v.Tokens);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (!plan.Notes.IsEmpty)
            {
                json.WriteStartArray("notes");
                foreach (string note in plan.Notes)
                {
                    json.WriteStringValue(note);
                }

                json.WriteEndArray();
            }
        }

        json.WriteEndObject();
    }

    private static void WriteSize(Utf8JsonWriter json, string name, PixelSize? size)
    {
        if (size is PixelSize s)
        {
            json.WriteStartArray(name);
            json.WriteNumberValue(s.Width);
            json.WriteNumberValue(s.Height);
            json.WriteEndArray();
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteError(Utf8JsonWriter json, int? w, int? h, string error)
    {
        json.WriteStartObject();
        WriteNullableNumber(json, "w", w);
        WriteNullableNumber(json, "h", h);
        json.WriteString("error", error);
        json.WriteEndObject();
    }

    private static void WriteNullableNumber(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>Parses "W H", "W,H" or "WxH". Numbers that parse are returned even when the line fails.</summary>
    internal static bool TryParseSize(string line, out int? width, out int? height, out string? error)
    {
        width = height = null;
        string[] parts = line.Split([' ', '\t', ',', 'x', 'X'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 1 && int.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int w))
        {
            width = w;
        }

        if (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int h))
        {
            height = h;
        }

        if (parts.Length != 2 || width is null || height is null)
        {
            error = $"expected two integers 'W H', got '{line}'";
            return false;
        }

        error = null;
        return true;
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is string line)
        {
            yield return line;
        }
    }
}
