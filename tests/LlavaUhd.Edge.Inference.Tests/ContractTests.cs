using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Sessions;
using LlavaUhd.Edge.ModelBuilder.Generation;
using Microsoft.ML.OnnxRuntime;

namespace LlavaUhd.Edge.Inference.Tests;

/// <summary>Generated packages load through the same loader as a real download and have the public contract's I/O.</summary>
[Collection(GeneratedPackagesCollection.Name)]
public sealed class ContractTests
{
    private readonly GeneratedPackages _packages;

    public ContractTests(GeneratedPackages packages) => _packages = packages;

    // The public SmolVLM-256M export (docs/smolvlm.md §3): session, direction, name, dtype, rank. Layers: tiny has 2.
    public static TheoryData<string, string, string, string, string, int> SmolVlmContract => new()
    {
        { ModelPreset.TinySmolVlm, "vision_encoder", "in", "pixel_values", "float32", 5 },
        { ModelPreset.TinySmolVlm, "vision_encoder", "in", "pixel_attention_mask", "bool", 4 },
        { ModelPreset.TinySmolVlm, "vision_encoder", "out", "image_features", "float32", 3 },
        { ModelPreset.TinySmolVlm, "embed_tokens", "in", "input_ids", "int64", 2 },
        { ModelPreset.TinySmolVlm, "embed_tokens", "out", "inputs_embeds", "float32", 3 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "in", "inputs_embeds", "float32", 3 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "in", "attention_mask", "int64", 2 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "in", "position_ids", "int64", 2 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "in", "past_key_values.0.key", "float32", 4 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "in", "past_key_values.1.value", "float32", 4 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "out", "logits", "float32", 3 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "out", "present.0.key", "float32", 4 },
        { ModelPreset.TinySmolVlm, "decoder_model_merged", "out", "present.1.value", "float32", 4 },
        { ModelPreset.TinyMiniCpmV, "vision_encoder", "in", "pixel_values", "float32", 4 },
        { ModelPreset.TinyMiniCpmV, "vision_encoder", "in", "patch_position_ids", "int64", 2 },
        { ModelPreset.TinyMiniCpmV, "vision_encoder", "out", "vision_features", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "resampler", "in", "vision_features", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "resampler", "out", "image_features", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "embed_tokens", "in", "input_ids", "int64", 2 },
        { ModelPreset.TinyMiniCpmV, "embed_tokens", "out", "inputs_embeds", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "in", "inputs_embeds", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "in", "attention_mask", "int64", 2 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "in", "position_ids", "int64", 2 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "in", "past_key_values.1.key", "float32", 4 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "out", "logits", "float32", 3 },
        { ModelPreset.TinyMiniCpmV, "decoder_model_merged", "out", "present.1.value", "float32", 4 },
    };

    [Theory]
    [MemberData(nameof(SmolVlmContract))]
    public void Session_Io_MatchesContractTable(string preset, string session, string direction, string name, string dtype, int rank)
    {
        ModelPackage package = ModelPackage.Load(_packages.Get(preset));
        using ModelSessions sessions = package.OpenSessions(new OnnxSessionFactory());
        InferenceSession s = sessions[session];
        IReadOnlyDictionary<string, NodeMetadata> meta = direction == "in" ? s.InputMetadata : s.OutputMetadata;
        Assert.True(meta.ContainsKey(name), $"{session} has no {direction}put '{name}'");
        Assert.Equal(dtype, OnnxSessionFactory.DTypeName(meta[name]));
        Assert.Equal(rank, meta[name].Dimensions.Length);
    }

    [Theory]
    [InlineData(ModelPreset.TinySmolVlm, 3, 2)]
    [InlineData(ModelPreset.TinyMiniCpmV, 4, 2)]
    public void Sessions_HaveExactlyTheContractNames(string preset, int sessionCount, int layers)
    {
        ModelPackage package = ModelPackage.Load(_packages.Get(preset));
        using ModelSessions sessions = package.OpenSessions(new OnnxSessionFactory());
        Assert.Equal(sessionCount, sessions.All.Count);
        InferenceSession decoder = sessions[SessionNames.Decoder];
        Assert.Equal(3 + (2 * layers), decoder.InputNames.Count);
        Assert.Equal(1 + (2 * layers), decoder.OutputNames.Count);
        Assert.False(sessions.HasInput(SessionNames.Decoder, "num_logits_to_keep"));
        Assert.Empty(package.Sessions.Sessions[SessionNames.Decoder].OptionalInputs);
    }

    [Fact]
    public void SmolVlm_Manifest_HasRealTokenIdsAndScheme()
    {
        ModelManifest m = ModelPackage.Load(_packages.SmolVlm).Manifest;
        Assert.Equal(ModelFamilies.SmolVlm, m.Family);
        Assert.Equal("idefics3", m.Slicing.Scheme);
        Assert.Equal(64, m.Slicing.TokensPerView);
        Assert.Equal(512, m.Slicing.TileSize);
        Assert.Equal(49190, m.Tokens.ImageTokenId);
        Assert.Equal(49279, m.Tokens.Special["<end_of_utterance>"]);
        Assert.Equal(49189, m.Tokens.Special["<fake_token_around_image>"]);
        Assert.Equal(49152, m.Tokens.Special["<global-img>"]);
        Assert.Equal(49153 + 7, m.Tokens.Special["<row_2_col_2>"]);
        Assert.Equal(1, m.Tokens.Special["<|im_start|>"]);
        Assert.Equal(49280, m.Dimensions.VocabSize);
        Assert.Contains(49279, m.Generation.EosTokenIds);
        Assert.Contains(2, m.Generation.EosTokenIds);
        Assert.Contains("<end_of_utterance>", m.ChatTemplate, StringComparison.Ordinal);
        Assert.Equal(LlavaUhd.Edge.Core.Slicing.SliceScheme.Idefics3, m.Slicing.ToSlicingOptions().Scheme);
    }

    [Fact]
    public void Tokenizer_KeepsImageTokensWhole()
    {
        var tokenizer = ModelPackage.Load(_packages.SmolVlm).LoadTokenizer();
        IReadOnlyList<int> ids = tokenizer.Tokenizer.EncodeToIds("<|im_start|>User:<fake_token_around_image><global-img><image><image>Hi there 12<end_of_utterance>\nAssistant:");
        Assert.Equal(1, ids[0]);
        Assert.Equal([49189, 49152, 49190, 49190], ids.SkipWhile(id => id != 49189).Take(4));
        Assert.Contains(49279, ids);
        Assert.Equal("Hi there 12", ((Microsoft.ML.Tokenizers.BpeTokenizer)tokenizer.Tokenizer).Decode(ids, considerSpecialTokens: false)!.Replace("User:", "").Replace("\nAssistant:", ""));
    }
}
