namespace LlavaUhd.Edge.Core.Slicing;

public static class SliceSchemeNames
{
    public const string MiniCpmV = "minicpmv";
    public const string Idefics3 = "idefics3";
    public const string LlavaUhdV1 = "llava-uhd-v1";

    public static IReadOnlyList<string> All { get; } = [MiniCpmV, Idefics3, LlavaUhdV1];

    public static string ToName(this SliceScheme scheme) => scheme switch
    {
        SliceScheme.MiniCpmV => MiniCpmV,
        SliceScheme.Idefics3 => Idefics3,
        SliceScheme.LlavaUhdV1 => LlavaUhdV1,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown slice scheme."),
    };

    public static bool TryParse(string? name, out SliceScheme scheme)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case MiniCpmV or "minicpm-v" or "llava-uhd":
                scheme = SliceScheme.MiniCpmV;
                return true;
            case Idefics3 or "smolvlm":
                scheme = SliceScheme.Idefics3;
                return true;
            case LlavaUhdV1 or "llava-uhd-v1.0" or "v1":
                scheme = SliceScheme.LlavaUhdV1;
                return true;
            default:
                scheme = default;
                return false;
        }
    }

    public static SliceScheme Parse(string? name) =>
        TryParse(name, out SliceScheme scheme)
            ? scheme
            : throw new SlicingException(
                "scheme",
                $"Unknown slicing scheme '{name}'. Expected one of: {string.Join(", ", All)}.");
}
