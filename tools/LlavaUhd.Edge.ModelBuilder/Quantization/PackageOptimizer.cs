using Google.Protobuf;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using LlavaUhd.Edge.ModelBuilder.Packaging;
using Onnx;

namespace LlavaUhd.Edge.ModelBuilder.Quantization;

/// <summary>
/// <c>models optimize</c>: adds the CPU variants of a package (docs/cpu-decoder.md) — <c>cpu-int8</c> (the fused decoder
/// with 8-bit MatMulNBits weights) or <c>cpu-q4</c> (4-bit, 8-bit output head). The vision encoder is chosen by
/// <see cref="EncoderChoice"/>: the package's static QDQ INT8 encoder, dynamically quantized or 8-bit MatMulNBits linear
/// layers made from the fp32 encoder, or fp32 (docs/cpu-decoder.md, "The encoder"); the embedding is copied from fp32.
/// </summary>
public static class PackageOptimizer
{
    /// <summary>The encoder choices of <c>models optimize --encoder</c>.</summary>
    public static class EncoderChoice
    {
        /// <summary>The package's <c>qdq-int8</c> encoder when it has one, else <see cref="Dynamic"/>.</summary>
        public const string Auto = "auto";

        /// <summary>The package's <c>qdq-int8</c> encoder (static QDQ: int8 weights, activations quantized per tensor).</summary>
        public const string Qdq = "qdq";

        /// <summary>Every linear layer of the fp32 encoder as 8-bit <c>MatMulNBits</c> (block 32, accuracy level 4).</summary>
        public const string NBits = "nbits";

        /// <summary>Every linear layer of the fp32 encoder dynamically quantized (<c>DynamicQuantizeMatMul</c>: int8 weights per column, activations per call).</summary>
        public const string Dynamic = "dynamic";

        /// <summary>The fp32 encoder as it is.</summary>
        public const string Fp32 = "fp32";

        public static IReadOnlyList<string> All { get; } = [Auto, Qdq, NBits, Dynamic, Fp32];
    }

    public static string VariantFor(int bits) => bits switch
    {
        8 => ModelVariants.CpuInt8,
        4 => ModelVariants.CpuQ4,
        _ => throw new ArgumentException($"--bits must be 8 or 4 (got {bits})", nameof(bits)),
    };

    /// <returns>The variant written and the size of its decoder file.</returns>
    public static (string Variant, long DecoderBytes) Optimize(string directory, int bits, int maxContext = 8192, IProgress<string>? progress = null, string encoder = EncoderChoice.Auto, int blockSize = 32, bool makeDefault = false)
    {
        string variant = VariantFor(bits);
        if (!EncoderChoice.All.Contains(encoder))
        {
            throw new ArgumentException($"--encoder must be one of {string.Join(", ", EncoderChoice.All)} (got '{encoder}')", nameof(encoder));
        }

        ModelPackage fp32 = ModelPackage.Load(directory, ModelVariants.Fp32);
        ModelManifest m = fp32.Manifest;
        bool hasQdq = m.Variants.ContainsKey(ModelVariants.QdqInt8);
        if (encoder == EncoderChoice.Qdq && !hasQdq)
        {
            throw new ArgumentException($"--encoder qdq needs the package's qdq-int8 variant; make it first (models quantize {directory} --calibration IMAGES)", nameof(encoder));
        }

        string encoderChoice = encoder == EncoderChoice.Auto ? (hasQdq ? EncoderChoice.Qdq : EncoderChoice.Dynamic) : encoder;
        long decoderBytes = 0;
        foreach (SessionContract contract in ModelContracts.For(m.Family))
        {
            string target = fp32.PathOf(ModelVariants.FileOf(contract.Session, variant));
            if (contract.Session == SessionNames.Decoder)
            {
                progress?.Report($"{contract.Session}: fused attention, {bits}-bit weights");
                ModelProto standard = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fp32.PathOf(fp32.Sessions.Sessions[SessionNames.Decoder].File)));
                (float? theta, float eps) = TextConfig(directory);
                ModelProto fused = FusedDecoder.Build(standard, maxContext, bits, blockSize, eps, theta);
                File.WriteAllBytes(target, fused.ToByteArray());
                decoderBytes = new FileInfo(target).Length;
                continue;
            }

            // The visual sessions (the encoder, and MiniCPM-V's resampler) follow the encoder choice; the embedding is fp32.
            bool visual = contract.Session != SessionNames.EmbedTokens;
            if (visual && encoderChoice is EncoderChoice.NBits or EncoderChoice.Dynamic)
            {
                ModelProto visualFp32 = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fp32.PathOf(fp32.Sessions.Sessions[contract.Session].File)));
                if (encoderChoice == EncoderChoice.NBits)
                {
                    progress?.Report($"{contract.Session}: 8-bit MatMulNBits linear layers");
                    WriteVisual(contract.Session, NBitsQuantizer.Quantize(visualFp32, blockSize: 32, accuracyLevel: 4, _ => 8));
                }
                else
                {
                    (WeightRange range, string why) = Int8WeightRanges.Resolve(WeightRange.Auto);
                    progress?.Report($"{contract.Session}: dynamically quantized int8 linear layers, {(range == WeightRange.Full ? "full" : "reduced")} weight range ({why})");
                    WriteVisual(contract.Session, DynamicQuantizer.Quantize(visualFp32, range));
                }

                continue;
            }

            string source = visual && encoderChoice == EncoderChoice.Qdq ? ModelVariants.QdqInt8 : ModelVariants.Fp32;
            progress?.Report($"{contract.Session}: the {source} graph");
            if (visual)
            {
                WriteVisual(contract.Session, ModelProto.Parser.ParseFrom(File.ReadAllBytes(fp32.PathOf(ModelVariants.FileOf(contract.Session, source)))));
            }
            else
            {
                File.Copy(fp32.PathOf(ModelVariants.FileOf(contract.Session, source)), target, overwrite: true);
            }

            // the encoder's attention onto MultiHeadAttention (flash attention when no patch is masked), its GELUs fused
            void WriteVisual(string session, ModelProto graph)
            {
                if (session == SessionNames.VisionEncoder)
                {
                    (graph, int fused) = EncoderAttention.Fuse(graph);
                    (graph, int gelus) = EncoderGelu.Fuse(graph);
                    progress?.Report($"{session}: {fused} attention blocks onto MultiHeadAttention, {gelus} GELUs fused (BiasGelu or FastGelu)");
                }

                File.WriteAllBytes(target, graph.ToByteArray());
            }
        }

        ManifestVariant described = ModelImporter.DescribeVariant(directory, m.Family, variant, new OnnxSessionFactory());
        ModelManifest.Read(Path.Combine(directory, ModelManifest.FileName)).WithVariant(variant, described, makeDefault)
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
