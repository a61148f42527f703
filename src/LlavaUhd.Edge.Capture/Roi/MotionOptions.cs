using System.Globalization;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>Motion ROI settings. Detection runs on a copy downscaled to <see cref="ProcessWidth"/>; boxes map back to native pixels.</summary>
public sealed class MotionOptions
{
    public const string SectionName = "Motion";

    public MotionMethod Method { get; set; } = MotionMethod.Mog2;

    /// <summary>Width of the downscaled copy motion is computed on (the height keeps the aspect ratio).</summary>
    public int ProcessWidth { get; set; } = 320;

    /// <summary>Difference threshold 1..255 (frame differencing) or MOG2's variance threshold.</summary>
    public double Threshold { get; set; } = 25;

    /// <summary>Smallest box kept, as a fraction of the frame's area.</summary>
    public double MinAreaFraction { get; set; } = 0.0005;

    /// <summary>Boxes closer than this fraction of the frame's width are merged.</summary>
    public double MergeDistanceFraction { get; set; } = 0.02;

    /// <summary>Each box grows by this fraction of the frame's width on every side (clamped to the frame).</summary>
    public double PaddingFraction { get; set; } = 0.02;

    /// <summary>After motion stops, its last boxes are still reported for this long (an object that pauses is kept).</summary>
    public int CooldownMs { get; set; }

    /// <summary>At most this many boxes per frame; the largest are kept.</summary>
    public int MaxRegions { get; set; } = 4;

    /// <summary>MOG2 history length in frames.</summary>
    public int History { get; set; } = 200;

    internal void Validate(string path, List<string> problems)
    {
        if (!Enum.IsDefined(Method))
        {
            problems.Add($"{path}: Method {Method} is not Mog2 or FrameDifference.");
        }

        Check(ProcessWidth is >= 16 and <= 4096, $"ProcessWidth must be between 16 and 4096; got {ProcessWidth}.");
        Check(Threshold is > 0 and <= 255, $"Threshold must be in (0, 255]; got {Threshold}.");
        Check(MinAreaFraction is >= 0 and < 1, $"MinAreaFraction must be in [0, 1); got {MinAreaFraction}.");
        Check(MergeDistanceFraction is >= 0 and < 1, $"MergeDistanceFraction must be in [0, 1); got {MergeDistanceFraction}.");
        Check(PaddingFraction is >= 0 and < 1, $"PaddingFraction must be in [0, 1); got {PaddingFraction}.");
        Check(CooldownMs >= 0, $"CooldownMs must be >= 0; got {CooldownMs}.");
        Check(MaxRegions is >= 1 and <= 64, $"MaxRegions must be between 1 and 64; got {MaxRegions}.");
        Check(History is >= 1 and <= 100_000, $"History must be between 1 and 100000; got {History}.");

        void Check(bool ok, FormattableString message)
        {
            if (!ok)
            {
                problems.Add($"{path}: {message.ToString(CultureInfo.InvariantCulture)}");
            }
        }
    }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Validate(SectionName, problems);
        return problems;
    }
}
