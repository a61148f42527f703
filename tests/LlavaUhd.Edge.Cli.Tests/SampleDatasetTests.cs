using System.Text.Json;
using System.Text.RegularExpressions;
using LlavaUhd.Edge.Cli.Commands;

namespace LlavaUhd.Edge.Cli.Tests;

/// <summary><c>sample --dataset</c>: parcel scenes and their questions follow docs/scenes.md and are reproducible.</summary>
public sealed class SampleDatasetTests
{
    private static readonly string[] s_colors = ["red", "green", "blue", "yellow", "orange", "purple", "white"];

    [Fact]
    public void Dataset_AnswersAreInTheirTypesDomains_AndAgreeWithTheScenes()
    {
        string dir = Directory.CreateTempSubdirectory("dataset").FullName;
        (int code, string stdout, string stderr) = CliProcess.Run(string.Empty, "sample", "--dataset", dir, "--count", "30", "--seed", "5", "--size", "640x360", "--roi");
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote 30 scenes", stdout, StringComparison.Ordinal);

        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        var presence = new List<string>();
        int index = -1;
        string? lastImage = null;
        ParcelScene? scene = null;
        foreach (string line in File.ReadLines(Path.Combine(dir, "dataset.jsonl")))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement e = doc.RootElement;
            string image = e.GetProperty("image").GetString()!, type = e.GetProperty("type").GetString()!, answer = e.GetProperty("answer").GetString()!;
            Assert.True(File.Exists(Path.Combine(dir, image)), image);
            if (image != lastImage)
            {
                scene?.Dispose();
                scene = ParcelScenes.Render(5, ++index, (640, 360));
                lastImage = image;
            }

            types[type] = types.GetValueOrDefault(type) + 1;
            switch (type)
            {
                case "count":
                    Assert.Equal(scene!.Parcels.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), answer);
                    break;
                case "color":
                    Assert.Contains(answer, s_colors);
                    Assert.Contains(scene!.Parcels, p => p.Color == answer);
                    break;
                case "position":
                    Assert.Contains(answer, new[] { "left", "middle", "right" });
                    break;
                case "presence":
                    Assert.Contains(answer, new[] { "yes", "no" });
                    presence.Add(answer);
                    break;
                case "code":
                    Assert.Matches(new Regex("^[ACEFHKLMNPRTWXY3479]{2,4}$"), answer);
                    Assert.Contains(scene!.Parcels, p => p.Code == answer);
                    int[] roi = [.. e.GetProperty("roi").EnumerateArray().Select(v => v.GetInt32())];
                    Assert.True(roi[2] > 0 && roi[3] > 0);
                    break;
                default:
                    Assert.Fail($"unknown type {type}");
                    break;
            }
        }

        scene?.Dispose();
        Assert.Equal(30, types["count"]);
        Assert.All(new[] { "color", "position", "presence", "code" }, t => Assert.True(types.GetValueOrDefault(t) > 5, $"{t}: {types.GetValueOrDefault(t)}"));
        Assert.InRange(presence.Count(a => a == "yes"), 5, 25);
    }

    [Fact]
    public void Dataset_ScenesJsonl_IsTheGroundTruthOfEveryImage()
    {
        string dir = Directory.CreateTempSubdirectory("scenes").FullName;
        (int code, _, string stderr) = CliProcess.Run(string.Empty, "sample", "--dataset", dir, "--count", "12", "--seed", "3");
        Assert.True(code == 0, stderr);
        string[] lines = File.ReadAllLines(Path.Combine(dir, "scenes.jsonl"));
        Assert.Equal(12, lines.Length);
        var counts = File.ReadLines(Path.Combine(dir, "dataset.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "count")
            .ToDictionary(e => e.GetProperty("image").GetString()!, e => int.Parse(e.GetProperty("answer").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        for (int i = 0; i < lines.Length; i++)
        {
            JsonElement e = JsonDocument.Parse(lines[i]).RootElement;
            using ParcelScene scene = ParcelScenes.Render(3, i);
            string image = e.GetProperty("image").GetString()!;
            Assert.Equal(scene.Image.Width, e.GetProperty("width").GetInt32());
            Assert.Equal(scene.Image.Height, e.GetProperty("height").GetInt32());
            int[] belt = [.. e.GetProperty("belt").EnumerateArray().Select(v => v.GetInt32())];
            Assert.Equal(new[] { scene.Belt.X, scene.Belt.Y, scene.Belt.Width, scene.Belt.Height }, belt);
            JsonElement[] parcels = [.. e.GetProperty("parcels").EnumerateArray()];
            Assert.Equal(counts[image], parcels.Length);
            for (int k = 0; k < parcels.Length; k++)
            {
                Parcel p = scene.Parcels[k];
                Assert.Equal(p.Color, parcels[k].GetProperty("color").GetString());
                Assert.Equal(p.Code, parcels[k].GetProperty("code").GetString());
                int[] box = [.. parcels[k].GetProperty("box").EnumerateArray().Select(v => v.GetInt32())];
                Assert.Equal(new[] { p.Box.X, p.Box.Y, p.Box.Width, p.Box.Height }, box);
                Assert.True(box[1] >= belt[1] && box[1] + box[3] <= belt[1] + belt[3], "parcels lie on the belt");
            }
        }
    }

    [Fact]
    public void Dataset_SameSeed_SameBytes_OtherSeed_OtherScenes()
    {
        string a = Directory.CreateTempSubdirectory("ds-a").FullName, b = Directory.CreateTempSubdirectory("ds-b").FullName, c = Directory.CreateTempSubdirectory("ds-c").FullName;
        Assert.Equal(0, CliProcess.Run(string.Empty, "sample", "--dataset", a, "--count", "3", "--seed", "9").ExitCode);
        Assert.Equal(0, CliProcess.Run(string.Empty, "sample", "--dataset", b, "--count", "3", "--seed", "9").ExitCode);
        Assert.Equal(0, CliProcess.Run(string.Empty, "sample", "--dataset", c, "--count", "3", "--seed", "10").ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "dataset.jsonl")), File.ReadAllBytes(Path.Combine(b, "dataset.jsonl")));
        foreach (string image in Directory.EnumerateFiles(Path.Combine(a, "images")))
        {
            Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(Path.Combine(b, "images", Path.GetFileName(image))));
        }

        Assert.NotEqual(File.ReadAllText(Path.Combine(a, "dataset.jsonl")), File.ReadAllText(Path.Combine(c, "dataset.jsonl")).Replace("images/10-", "images/9-", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_PositionAnswer_IsTheThirdHoldingTheParcelsPixels()
    {
        for (int i = 0; i < 20; i++)
        {
            using ParcelScene scene = ParcelScenes.Render(11, i, (1280, 720));
            foreach (Parcel p in scene.Parcels)
            {
                // The parcel's face colour is at its centre (the label sits lower, the tape higher).
                OpenCvSharp.Vec3b px = scene.Image.At<OpenCvSharp.Vec3b>(p.Box.Y + (p.Box.Height / 6), p.CenterX);
                OpenCvSharp.Scalar expected = ParcelScenes.Colors.Single(c => c.Name == p.Color).Bgr;
                Assert.True(Math.Abs(px.Item2 - expected.Val2) < 90 && Math.Abs(px.Item0 - expected.Val0) < 90, $"scene {i} {p.Color} at {p.CenterX}: {px}");
                Assert.Equal(p.CenterX * 3 < 1280 ? "left" : p.CenterX * 3 < 2560 ? "middle" : "right", ParcelScenes.Third(p.CenterX, 1280));
            }
        }
    }
}
