using Google.Protobuf;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// <c>models quantize</c>: calibrates every session of a package's fp32 variant with views of calibration images,
/// writes <c>onnx/*_qdq_int8.onnx</c>, adds the <c>qdq-int8</c> variant to model.json and reports drift.
/// Decoder and embeddings are calibrated with a prefill of the view's FP32 image features followed by a short prompt.
/// </summary>
public static class PackageQuantizer
{
    public static IReadOnlyList<SessionReport> Quantize(
        string directory,
        IReadOnlyList<float[]> calibrationViews,
        IReadOnlyList<float[]> heldOutViews,
        CalibrationMethod method,
        bool perChannel,
        IProgress<string>? progress = null,
        WeightRange weightRange = WeightRange.Auto)
    {
        (WeightRange range, string reason) = Int8WeightRanges.Resolve(weightRange);
        progress?.Report($"weights: {(range == WeightRange.Full ? "full range [-127, 127]" : "reduced range [-64, 64]")} ({reason})");
        ModelPackage package = ModelPackage.Load(directory, ModelVariants.Fp32);
        ModelManifest m = package.Manifest;
        var factory = new OnnxSessionFactory();
        var reports = new List<SessionReport>();
        List<Dictionary<string, IReadOnlyDictionary<string, FeedTensor>>> calib, held;
        using (ModelSessions fp32 = package.OpenSessions(factory))
        {
            progress?.Report("running FP32 graphs on the calibration views");
            calib = calibrationViews.Select(v => Feeds(fp32, m, v)).ToList();
            held = heldOutViews.Select(v => Feeds(fp32, m, v)).ToList();
        }

        foreach ((string session, ManifestSession info) in package.Sessions.Sessions)
        {
            progress?.Report($"quantizing {session} ({method}, {(perChannel ? "per-channel" : "per-tensor")} weights)");
            ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(package.PathOf(info.File)));
            ModelProto q = QdqQuantizer.Quantize(model, calib.Select(c => c[session]).ToList(), method, perChannel, range);
            string file = ModelVariants.FileOf(session, ModelVariants.QdqInt8);
            File.WriteAllBytes(package.PathOf(file), q.ToByteArray());
            progress?.Report($"measuring drift of {session}");
            string output = info.Outputs[0].Name;
            (double cos, double err) = Drift(factory, package.PathOf(info.File), package.PathOf(file), held.Select(h => h[session]).ToList(), output);
            reports.Add(new SessionReport(session, info.Bytes, new FileInfo(package.PathOf(file)).Length, cos, err, output) { WeightRange = range, WeightRangeReason = reason });
        }

        ManifestVariant variant = ModelImporter.DescribeVariant(directory, m.Family, ModelVariants.QdqInt8, factory);
        ModelManifest.Read(Path.Combine(directory, ModelManifest.FileName)).WithVariant(ModelVariants.QdqInt8, variant)
            .Write(Path.Combine(directory, ModelManifest.FileName));
        return reports;
    }

    /// <summary>
    /// <c>models quantize --format q4</c>: rewrites every session of the fp32 variant with <see cref="NBitsQuantizer"/>
    /// (weight-only blockwise 4-bit MatMulNBits, no calibration), writes <c>onnx/*_q4.onnx</c>, adds the <c>q4</c>
    /// variant to model.json and reports drift against FP32 on the held-out views. Sessions without a quantizable
    /// MatMul (the token embeddings, a Gather) are written unchanged so the variant is complete.
    /// </summary>
    public static IReadOnlyList<SessionReport> QuantizeQ4(string directory, IReadOnlyList<float[]> heldOutViews, int blockSize = 32, IProgress<string>? progress = null)
    {
        ModelPackage package = ModelPackage.Load(directory, ModelVariants.Fp32);
        ModelManifest m = package.Manifest;
        var factory = new OnnxSessionFactory();
        var reports = new List<SessionReport>();
        List<Dictionary<string, IReadOnlyDictionary<string, FeedTensor>>> held;
        using (ModelSessions fp32 = package.OpenSessions(factory))
        {
            progress?.Report("running FP32 graphs on the held-out views");
            held = heldOutViews.Select(v => Feeds(fp32, m, v)).ToList();
        }

        foreach ((string session, ManifestSession info) in package.Sessions.Sessions)
        {
            ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(package.PathOf(info.File)));
            ModelProto q = NBitsQuantizer.Quantize(model, blockSize);
            progress?.Report($"{session}: {NBitsQuantizer.CountNBits(q)} MatMuls -> MatMulNBits (4-bit, block {blockSize})");
            string file = ModelVariants.FileOf(session, ModelVariants.Q4);
            File.WriteAllBytes(package.PathOf(file), q.ToByteArray());
            progress?.Report($"measuring drift of {session}");
            string output = info.Outputs[0].Name;
            (double cos, double err) = Drift(factory, package.PathOf(info.File), package.PathOf(file), held.Select(h => h[session]).ToList(), output);
            reports.Add(new SessionReport(session, info.Bytes, new FileInfo(package.PathOf(file)).Length, cos, err, output));
        }

        ManifestVariant variant = ModelImporter.DescribeVariant(directory, m.Family, ModelVariants.Q4, factory);
        ModelManifest.Read(Path.Combine(directory, ModelManifest.FileName)).WithVariant(ModelVariants.Q4, variant)
            .Write(Path.Combine(directory, ModelManifest.FileName));
        return reports;
    }

    /// <summary>The feeds of every session for one view, computed with the FP32 sessions (upstream outputs feed downstream inputs).</summary>
    private static Dictionary<string, IReadOnlyDictionary<string, FeedTensor>> Feeds(ModelSessions s, ModelManifest m, float[] view)
    {
        ManifestDimensions d = m.Dimensions;
        var feeds = new Dictionary<string, IReadOnlyDictionary<string, FeedTensor>>(StringComparer.Ordinal);
        FeedTensor features;
        if (m.Family == ModelFamilies.SmolVlm)
        {
            int size = d.ImageSize;
            var vision = new Dictionary<string, FeedTensor>
            {
                ["pixel_values"] = new(view, [1, 1, 3, size, size]),
                ["pixel_attention_mask"] = new(Enumerable.Repeat(true, size * size).ToArray(), [1, 1, size, size]),
            };
            feeds[SessionNames.VisionEncoder] = vision;
            features = Run(s[SessionNames.VisionEncoder], vision, "image_features");
        }
        else
        {
            int size = m.Slicing.ScaleResolution;
            int side = size / d.PatchSize;
            var vision = new Dictionary<string, FeedTensor>
            {
                ["pixel_values"] = new(view, [1, 3, size, size]),
                ["patch_position_ids"] = new(PatchPositions.Bucketed(side, side, d.PositionGrid), [1, side * side]),
            };
            feeds[SessionNames.VisionEncoder] = vision;
            FeedTensor vf = Run(s[SessionNames.VisionEncoder], vision, "vision_features");
            var resampler = new Dictionary<string, FeedTensor> { ["vision_features"] = vf };
            feeds[SessionNames.Resampler] = resampler;
            features = Run(s[SessionNames.Resampler], resampler, "image_features");
        }

        // A prompt of ordinary token ids after the image rows (ids below the special-token range).
        long[] ids = Enumerable.Range(0, 12).Select(i => (long)(20 + ((i * 7) % 200))).ToArray();
        var embed = new Dictionary<string, FeedTensor> { ["input_ids"] = new(ids, [1, ids.Length]) };
        feeds[SessionNames.EmbedTokens] = embed;
        float[] text = (float[])Run(s[SessionNames.EmbedTokens], embed, "inputs_embeds").Data;
        float[] image = (float[])features.Data;
        int seq = (image.Length + text.Length) / d.TextHidden;
        var decoder = new Dictionary<string, FeedTensor>
        {
            ["inputs_embeds"] = new(image.Concat(text).ToArray(), [1, seq, d.TextHidden]),
            ["attention_mask"] = new(Enumerable.Repeat(1L, seq).ToArray(), [1, seq]),
            ["position_ids"] = new(Enumerable.Range(0, seq).Select(i => (long)i).ToArray(), [1, seq]),
        };
        foreach (string input in s[SessionNames.Decoder].InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal)))
        {
            decoder[input] = new(Array.Empty<float>(), [1, d.NumKeyValueHeads, 0, d.HeadDim]);
        }

        feeds[SessionNames.Decoder] = decoder;
        return feeds;
    }

    private static FeedTensor Run(InferenceSession session, IReadOnlyDictionary<string, FeedTensor> feed, string output)
    {
        var values = feed.ToDictionary(kv => kv.Key, kv => kv.Value.ToOrtValue(), StringComparer.Ordinal);
        try
        {
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outs = session.Run(run, values, [output]);
            return new FeedTensor(outs[0].GetTensorDataAsSpan<float>().ToArray(), outs[0].GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (OrtValue v in values.Values)
            {
                v.Dispose();
            }
        }
    }

    /// <summary>Cosine similarity (over all held-out outputs concatenated) and max abs error of FP32 vs INT8.</summary>
    public static (double Cosine, double MaxAbsErr) Drift(OnnxSessionFactory factory, string fp32Path, string int8Path, IReadOnlyList<IReadOnlyDictionary<string, FeedTensor>> feeds, string output)
    {
        using InferenceSession a = factory.Create(fp32Path);
        using InferenceSession b = factory.Create(int8Path);
        double dot = 0, na = 0, nb = 0, maxErr = 0;
        foreach (IReadOnlyDictionary<string, FeedTensor> feed in feeds)
        {
            float[]? x = null;
            QdqQuantizer.RunAndObserve(a, feed, [output], (_, v) => x = v.ToArray());
            QdqQuantizer.RunAndObserve(b, feed, [output], (_, y) =>
            {
                for (int i = 0; i < y.Length; i++)
                {
                    dot += (double)x![i] * y[i];
                    na += (double)x[i] * x[i];
                    nb += (double)y[i] * y[i];
                    maxErr = Math.Max(maxErr, Math.Abs(x[i] - y[i]));
                }
            });
        }

        return (na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb), maxErr);
    }
}
