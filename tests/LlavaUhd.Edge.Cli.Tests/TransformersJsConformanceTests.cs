using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary>
/// The reference consumer of the public SmolVLM export, transformers.js, loads a package made by
/// <c>models generate</c> unchanged (its own processor, chat template and ONNX sessions), builds the prompt, and
/// decodes greedily from the pixel values our runtime made: its prompt ids equal our <c>prompt</c> verb's, its
/// generated ids and text equal our <c>ask</c>'s. Runs <c>tools/conformance/generation-check.mjs</c> with Node
/// (its packages are installed by <c>tools/setup.sh</c>).
/// </summary>
public sealed class TransformersJsConformanceTests : IClassFixture<TinyPackageFixture>
{
    private readonly TinyPackageFixture _tiny;

    public TransformersJsConformanceTests(TinyPackageFixture tiny) => _tiny = tiny;

    [Theory]
    [InlineData(640, 480, "What is on the belt?")]
    [InlineData(300, 1200, "  how many  parcels?\n")]
    [InlineData(1920, 1080, "Ünïcödé 📦 code 12?")]
    public void GeneratedPackage_TransformersJsAgreesWithPromptAndAsk(int width, int height, string question)
    {
        string image = Path.Combine(_tiny.Root, $"conf-{width}x{height}.png");
        using (Mat sample = Commands.SampleCommand.Render(width, height, seed: width + height))
        {
            Cv2.ImWrite(image, sample);
        }

        string pixels = OurPixelValues(image, $"conf-{width}x{height}");
        JsonElement js = RunNode(_tiny.Package, width, height, question, pixels, maxNewTokens: 10);

        (int pc, string prompt, string pe) = CliProcess.Run(string.Empty, "prompt", image, question, "--model", _tiny.Package, "--json");
        Assert.True(pc == 0, pe);
        using JsonDocument ours = JsonDocument.Parse(prompt);
        Assert.Equal(Ints(js.GetProperty("input_ids")), Ints(ours.RootElement.GetProperty("input_ids")));
        Assert.Equal(js.GetProperty("rows").GetInt32(), ours.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(js.GetProperty("cols").GetInt32(), ours.RootElement.GetProperty("cols").GetInt32());
        Assert.Equal(Ints(js.GetProperty("pixel_values_shape")), Ints(ours.RootElement.GetProperty("pixel_values_shape")));

        (int ac, string ask, string ae) = CliProcess.Run(string.Empty, "ask", image, question, "--model", _tiny.Package, "--max-new-tokens", "10", "--json");
        Assert.True(ac == 0, ae);
        using JsonDocument answer = JsonDocument.Parse(ask);
        int[] generated = Ints(js.GetProperty("generated_ids"));
        Assert.NotEmpty(generated);
        Assert.Equal(generated, Ints(answer.RootElement.GetProperty("token_ids")));
        Assert.Equal(js.GetProperty("text").GetString(), answer.RootElement.GetProperty("answer").GetString());
    }

    /// <summary>Our pixel path's views (<c>preprocess</c>), in encoder order, as one raw float32 [1, N, 3, 512, 512] file.</summary>
    private string OurPixelValues(string image, string name)
    {
        string dir = Path.Combine(_tiny.Root, name);
        (int code, _, string err) = CliProcess.Run(string.Empty, "preprocess", image, "--scheme", "idefics3", "--out", dir);
        Assert.True(code == 0, err);
        using JsonDocument views = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "views.json")));
        string raw = Path.Combine(_tiny.Root, name + ".f32");
        using FileStream output = File.Create(raw);
        foreach (JsonElement view in views.RootElement.GetProperty("views").EnumerateArray())
        {
            byte[] npy = File.ReadAllBytes(Path.Combine(dir, view.GetProperty("file").GetString()!));
            int header = 10 + BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8)); // .npy 1.0: magic, version, header length
            output.Write(npy.AsSpan(header));
        }

        return raw;
    }

    private static JsonElement RunNode(string package, int width, int height, string question, string pixels, int maxNewTokens)
    {
        string root = RepositoryRoot();
        string conformance = Path.Combine(root, "tools", "conformance");
        Assert.True(
            Directory.Exists(Path.Combine(conformance, "node_modules", "@huggingface", "transformers")),
            $"transformers.js is not installed in {conformance}: run 'bash tools/setup.sh' (npm ci --ignore-scripts)");
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = conformance,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[]
        {
            "generation-check.mjs", "--model", package, "--width", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--height", height.ToString(System.Globalization.CultureInfo.InvariantCulture), "--question", question,
            "--pixel-values", pixels, "--max-new-tokens", maxNewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("generation-check.mjs did not finish");
        }

        Assert.True(p.ExitCode == 0, $"node exited {p.ExitCode}: {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "LlavaUhd.Edge.sln")))
            {
                return d.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no LlavaUhd.Edge.sln above {AppContext.BaseDirectory}");
    }

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
