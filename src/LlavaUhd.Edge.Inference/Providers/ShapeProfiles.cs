using System.Globalization;
using System.Text;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Models.Families;
using LlavaUhd.Edge.Inference.Sessions;

namespace LlavaUhd.Edge.Inference.Providers;

/// <summary>
/// TensorRT optimisation profiles from a package's dimensions, so that every shape the slicing produces (1 to 17
/// SmolVLM tiles, growing KV caches) runs on one engine instead of triggering a rebuild.
/// </summary>
public static class ShapeProfiles
{
    /// <summary>The longest prompt + answer a TensorRT decoder engine is built for.</summary>
    public const int MaxSequence = 2048;

    /// <summary>Most views in one vision-encoder call (SmolVLM: 16 tiles + global).</summary>
    public const int MaxViews = 17;

    public static ShapeProfile? For(ModelManifest manifest, string session)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ManifestDimensions d = manifest.Dimensions;
        var min = new Profile();
        var opt = new Profile();
        var max = new Profile();
        switch (session)
        {
            case SessionNames.VisionEncoder:
                ModelFamily.Get(manifest.Family).AddVisionProfile(manifest, MaxViews, Add);
                break;
            case SessionNames.Resampler:
            {
                int scale = manifest.Slicing.ScaleResolution;
                int p = d.PatchSize;
                int big = 2 * scale;
                Add("vision_features", [1, 1, d.VisionHidden], [1, (scale / p) * (scale / p), d.VisionHidden], [manifest.Slicing.MaxSlices, (big / p) * (big / p), d.VisionHidden]);
                break;
            }

            case SessionNames.EmbedTokens:
                Add("input_ids", [1, 1], [1, 1], [1, MaxSequence]);
                break;
            case SessionNames.Decoder:
                Add("inputs_embeds", [1, 1, d.TextHidden], [1, 1, d.TextHidden], [1, MaxSequence, d.TextHidden]);
                Add("attention_mask", [1, 1], [1, MaxSequence / 2], [1, MaxSequence]);
                Add("position_ids", [1, 1], [1, 1], [1, MaxSequence]);
                for (int l = 0; l < d.NumLayers; l++)
                {
                    foreach (string kv in new[] { "key", "value" })
                    {
                        Add($"past_key_values.{l}.{kv}", [1, d.NumKeyValueHeads, 0, d.HeadDim], [1, d.NumKeyValueHeads, MaxSequence / 2, d.HeadDim], [1, d.NumKeyValueHeads, MaxSequence, d.HeadDim]);
                    }
                }

                break;
            default:
                return null;
        }

        return new ShapeProfile(min.ToString(), opt.ToString(), max.ToString());

        void Add(string name, long[] lo, long[] typical, long[] hi)
        {
            min.Add(name, lo);
            opt.Add(name, typical);
            max.Add(name, hi);
        }
    }

    private sealed class Profile
    {
        private readonly StringBuilder _text = new();

        public void Add(string name, long[] dims)
        {
            if (_text.Length > 0)
            {
                _text.Append(',');
            }

            _text.Append(name).Append(':').AppendJoin('x', dims.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        }

        public override string ToString() => _text.ToString();
    }
}
