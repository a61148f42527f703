using Google.Protobuf;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using Onnx;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// <c>models optimize</c>: adds the CPU variants of a package (docs/cpu-decoder.md) — <c>cpu-int8</c> (the fused decoder
/// with 8-bit MatMulNBits weights) or <c>cpu-q4</c> (4-bit, 8-bit output head). The other sessions are copied from the
/// package's <c>qdq-int8</c> variant when it has one (the INT8 encoder), else from fp32, so the variant is complete.
/// </summary>
public static class PackageOptimizer
{
    public static string VariantFor(int bits) => bits switch
    {
        8 => ModelVariants.CpuInt8,
        4 => ModelVariants.CpuQ4,
        _ => throw new ArgumentException($"--bits must be 8 or 4 (got {bits})", nameof(bits)),
    };

    /// <returns>The variant written and the size of its decoder file.</returns>
    public static (string Variant, long DecoderBytes) Optimize(string directory, int bits, int maxContext = 8192, IProgress<string>? progress = null)
    {
        string variant = VariantFor(bits);
        ModelPackage fp32 = ModelPackage.Load(directory, ModelVariants.Fp32);
        ModelManifest m = fp32.Manifest;
        string encoderSource = m.Variants.ContainsKey(ModelVariants.QdqInt8) ? ModelVariants.QdqInt8 : ModelVariants.Fp32;
        long decoderBytes = 0;
        foreach (SessionContract contract in ModelContracts.For(m.Family))
        {
            string target = fp32.PathOf(ModelVariants.FileOf(contract.Session, variant));
            if (contract.Session == SessionNames.Decoder)
            {
                progress?.Report($"{contract.Session}: fused attention, {bits}-bit weights");
                ModelProto standard = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fp32.PathOf(fp32.Sessions.Sessions[SessionNames.Decoder].File)));
                (float? theta, float eps) = TextConfig(directory);
                ModelProto fused = FusedDecoder.Build(standard, maxContext, bits, eps: eps, ropeTheta: theta);
                File.WriteAllBytes(target, fused.ToByteArray());
                decoderBytes = new FileInfo(target).Length;
                continue;
            }

            string source = contract.Session == SessionNames.EmbedTokens ? ModelVariants.Fp32 : encoderSource;
            progress?.Report($"{contract.Session}: the {source} graph");
            File.Copy(fp32.PathOf(ModelVariants.FileOf(contract.Session, source)), target, overwrite: true);
        }

        ManifestVariant described = ModelImporter.DescribeVariant(directory, m.Family, variant, new OnnxSessionFactory());
        ModelManifest.Read(Path.Combine(directory, ModelManifest.FileName)).WithVariant(variant, described)
            .Write(Path.Combine(directory, ModelManifest.FileName));
        return (variant, decoderBytes);
    }

    /// <summary>The rotary base and RMSNorm epsilon of the text model, from config.json (<c>text_config</c> when nested).</summary>
    private static (float? RopeTheta, float Eps) TextConfig(string directory)
    {
        string path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
        {
            return (null, 1e-5f);
        }

        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        System.Text.Json.JsonElement text = doc.RootElement.TryGetProperty("text_config", out System.Text.Json.JsonElement t) ? t : doc.RootElement;
        float? theta = text.TryGetProperty("rope_theta", out System.Text.Json.JsonElement r) ? r.GetSingle() : null;
        float eps = text.TryGetProperty("rms_norm_eps", out System.Text.Json.JsonElement e) ? e.GetSingle() : 1e-5f;
        return (theta, eps);
    }
}
