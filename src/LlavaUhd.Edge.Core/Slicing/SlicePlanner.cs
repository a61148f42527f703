using System.Collections.Immutable;
using System.Globalization;

namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>
/// Plans how a region of a given size is sliced. Pure: sizes in, <see cref="SlicePlan"/> out, no pixels.
/// The default options reproduce the reference processors bit for bit (float64, round-half-to-even, the
/// candidate order, strict <c>&lt;</c>, the log of the quotient).
/// </summary>
public static class SlicePlanner
{
    public static SlicePlan Plan(PixelSize size, SlicingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ValidateSize(size);

        var builder = new StageBuilder(options.Filter);
        var notes = ImmutableArray.CreateBuilder<string>();
        (int baseStage, PixelSize planned) = ApplyAspectGuard(size, options, builder, notes);

        SlicePlan plan = options.Scheme switch
        {
            SliceScheme.MiniCpmV => PlanMiniCpmV(size, planned, baseStage, options, builder, notes),
            SliceScheme.Idefics3 => PlanIdefics3(size, planned, baseStage, options, builder, notes),
            SliceScheme.LlavaUhdV1 => PlanLlavaUhdV1(size, planned, baseStage, options, builder, notes),
            _ => throw new SlicingException("scheme", $"Unknown slicing scheme {options.Scheme}."),
        };
        return plan;
    }

    public static SlicePlan Plan(int width, int height, SlicingOptions options) => Plan(new PixelSize(width, height), options);

    /// <summary>Throws <see cref="SlicingException"/> for a zero, negative or absurd size, naming the value.</summary>
    public static void ValidateSize(PixelSize size)
    {
        if (size.Width <= 0 || size.Width > SlicingOptions.MaxDimension)
        {
            throw new SlicingException(
                "width",
                string.Create(CultureInfo.InvariantCulture, $"width = {size.Width} is invalid: an image side must be between 1 and {SlicingOptions.MaxDimension} pixels."));
        }

        if (size.Height <= 0 || size.Height > SlicingOptions.MaxDimension)
        {
            throw new SlicingException(
                "height",
                string.Create(CultureInfo.InvariantCulture, $"height = {size.Height} is invalid: an image side must be between 1 and {SlicingOptions.MaxDimension} pixels."));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // MiniCPM-V (HF MiniCPMVImageProcessor): slice_image, get_sliced_grid, find_best_resize, get_refine_size.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary><c>ensure_divide</c>: the nearest multiple of <paramref name="unit"/> (halves to even), never below it.</summary>
    internal static int Snap(double length, int unit) => Math.Max((int)(Math.Round(length / unit) * unit), unit);

    /// <summary><c>find_best_resize</c>: area-fit to scale² when larger (or when upscaling is allowed), then snap to the patch.</summary>
    internal static PixelSize FindBestResize(double width, double height, int scale, int patch, bool allowUpscale)
    {
        if (width * height > (double)scale * scale || allowUpscale)
        {
            double r = width / height;
            int h = (int)(scale / Math.Sqrt(r));
            int w = (int)(h * r);
            width = w;
            height = h;
        }

        return new PixelSize(Snap(width, patch), Snap(height, patch));
    }

    /// <summary><c>get_sliced_grid</c>: the grid (cols, rows), or null when the image is not sliced.</summary>
    internal static GridSize? MiniCpmVGrid(int width, int height, int scale, int maxSlices)
    {
        double logRatio = Math.Log((double)width / height);
        double ratio = (double)width * height / ((double)scale * scale);
        int multiple = Math.Min((int)Math.Ceiling(ratio), maxSlices);
        if (multiple <= 1)
        {
            return null;
        }

        return BestGrid(logRatio, multiple - 1, multiple + 1, minCount: 2, maxSlices);
    }

    /// <summary>
    /// The first (cols, rows) with the smallest |ln(W/H) − ln(cols/rows)| over slice counts <paramref name="firstCount"/>
    /// … <paramref name="lastCount"/> (skipping counts outside [minCount, maxSlices]), columns ascending; strict
    /// <c>&lt;</c>, so ties go to the earlier candidate exactly as in the references.
    /// </summary>
    private static GridSize BestGrid(double logRatio, int firstCount, int lastCount, int minCount, int maxSlices)
    {
        GridSize best = new(1, 1);
        double minError = double.PositiveInfinity;
        for (int k = firstCount; k <= lastCount; k++)
        {
            if (k < minCount || k > maxSlices)
            {
                continue;
            }

            for (int m = 1; m <= k; m++)
            {
                if (k % m != 0)
                {
                    continue;
                }

                double error = Math.Abs(logRatio - Math.Log((double)m / (k / m)));
                if (error < minError)
                {
                    best = new GridSize(m, k / m);
                    minError = error;
                }
            }
        }

        return best;
    }

    private static SlicePlan PlanMiniCpmV(
        PixelSize original, PixelSize planned, int baseStage, SlicingOptions o, StageBuilder b, ImmutableArray<string>.Builder notes)
    {
        int s = o.ScaleResolution;
        int p = o.PatchSize;
        (int w, int h) = (planned.Width, planned.Height);
        GridSize? grid = MiniCpmVGrid(w, h, s, o.MaxSlices);

        var views = ImmutableArray.CreateBuilder<SliceView>();
        if (grid is null)
        {
            PixelSize overview = FindBestResize(w, h, s, p, allowUpscale: true);
            int stage = b.Resize("overview", baseStage, planned, overview, o.PreserveAspect);
            views.Add(b.View(views.Count, ViewKind.Overview, -1, -1, stage, o.TokensPerView));
            return b.Build(o, original, planned, overview, null, null, null, views, notes);
        }

        GridSize g = grid.Value;
        PixelSize over = FindBestResize(w, h, s, p, allowUpscale: false);
        int overviewStage = b.Resize("overview", baseStage, planned, over, o.PreserveAspect);
        views.Add(b.View(views.Count, ViewKind.Overview, -1, -1, overviewStage, o.TokensPerView));

        double cellW = Snap(w, g.Columns) / (double)g.Columns;
        double cellH = Snap(h, g.Rows) / (double)g.Rows;
        PixelSize slice = FindBestResize(cellW, cellH, s, p, allowUpscale: true);
        var refined = new PixelSize(slice.Width * g.Columns, slice.Height * g.Rows);
        int refinedStage = b.Resize("refined", baseStage, planned, refined, o.PreserveAspect);
        AddGridSlices(b, views, refinedStage, refined, g, slice, OverlapPixels(o.Overlap, slice, p), resampleTo: null, o.TokensPerView);
        return b.Build(o, original, planned, over, refined, g, slice, views, notes);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Idefics3 / SmolVLM (transformers Idefics3ImageProcessor): resize to longest edge, resize_for_vision_encoder,
    // split_image.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>The image processor's hard cap on the long side after the longest-edge resize.</summary>
    public const int Idefics3MaxImageSize = 4096;

    /// <summary>Step 1: <c>_resize_output_size_rescale_to_max_len</c> then <c>_resize_output_size_scale_below_upper_bound</c>.</summary>
    internal static PixelSize Idefics3LongestEdge(int width, int height, int longestEdge)
    {
        double aspect = (double)width / height;
        int w, h;
        if (width >= height)
        {
            w = longestEdge;
            h = (int)(w / aspect);
            if (h % 2 != 0)
            {
                h++;
            }
        }
        else
        {
            h = longestEdge;
            w = (int)(h * aspect);
            if (w % 2 != 0)
            {
                w++;
            }
        }

        h = Math.Max(h, 1);
        w = Math.Max(w, 1);

        aspect = (double)w / h;
        if (w >= h && w > Idefics3MaxImageSize)
        {
            w = Idefics3MaxImageSize;
            h = (int)(w / aspect);
        }
        else if (h > w && h > Idefics3MaxImageSize)
        {
            h = Idefics3MaxImageSize;
            w = (int)(h * aspect);
        }

        return new PixelSize(Math.Max(w, 1), Math.Max(h, 1));
    }

    /// <summary>Step 2: <c>resize_for_vision_encoder</c>, stretch to multiples of the tile (aspect not preserved).</summary>
    internal static PixelSize Idefics3TileMultiple(int width, int height, int tile)
    {
        double aspect = (double)width / height;
        int w, h;
        if (width >= height)
        {
            w = (int)Math.Ceiling((double)width / tile) * tile;
            h = (int)(w / aspect);
            h = (int)Math.Ceiling((double)h / tile) * tile;
        }
        else
        {
            h = (int)Math.Ceiling((double)height / tile) * tile;
            w = (int)(h * aspect);
            w = (int)Math.Ceiling((double)w / tile) * tile;
        }

        // A zero (only possible for extreme aspects) would make an empty image; the reference would fail there.
        return new PixelSize(Math.Max(w, tile), Math.Max(h, tile));
    }

    private static SlicePlan PlanIdefics3(
        PixelSize original, PixelSize planned, int baseStage, SlicingOptions o, StageBuilder b, ImmutableArray<string>.Builder notes)
    {
        int t = o.TileSize;
        PixelSize step1 = Idefics3LongestEdge(planned.Width, planned.Height, o.LongestEdge);
        int s1 = step1 == planned ? baseStage : b.Resize("resized", baseStage, planned, step1, preserveAspect: false);
        PixelSize resized = Idefics3TileMultiple(step1.Width, step1.Height, t);
        int s2 = resized == step1 ? s1 : b.Resize("tiled", s1, step1, resized, o.PreserveAspect);

        var views = ImmutableArray.CreateBuilder<SliceView>();
        var tileSize = new PixelSize(t, t);
        if (resized.Width > t || resized.Height > t)
        {
            var g = new GridSize((int)Math.Ceiling((double)resized.Width / t), (int)Math.Ceiling((double)resized.Height / t));
            var cell = new PixelSize(
                (int)Math.Ceiling((double)resized.Width / g.Columns),
                (int)Math.Ceiling((double)resized.Height / g.Rows));
            int overlap = OverlapPixels(o.Overlap, cell, o.PatchSize);
            AddGridSlices(b, views, s2, resized, g, cell, overlap, resampleTo: overlap > 0 ? tileSize : null, o.TokensPerView);
            int global = b.Resize("global", s2, resized, tileSize, preserveAspect: false);
            views.Add(b.View(views.Count, ViewKind.Global, -1, -1, global, o.TokensPerView));
            return b.Build(o, original, planned, tileSize, resized, g, cell, views, notes);
        }

        // Not split (only when longest_edge <= tile): the single tile-sized image is the global image. A region that is
        // already that size is used as it is (an identity stage: a view of the region, no resampling).
        int single = s2 == PlanStage.RegionInput ? b.Resize("global", s2, planned, planned, preserveAspect: false) : s2;
        views.Add(b.View(views.Count, ViewKind.Global, -1, -1, single, o.TokensPerView));
        return b.Build(o, original, planned, b.SizeOf(single, planned), resized, null, null, views, notes);
    }

    // ---------------------------------------------------------------------------------------------------------
    // LLaVA-UHD v1 (the original release, slice_logic.py): at most 6 slices cut from the original, adapt_size.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>The v1 grid (cols, rows); (1, 1) means "do not slice".</summary>
    internal static GridSize LlavaUhdV1Grid(int width, int height, int scale, int maxSlices)
    {
        double logRatio = Math.Log((double)width / height);
        int n = Math.Min((int)Math.Ceiling((double)width * height / ((double)scale * scale)), maxSlices);
        int first = n <= 2 ? n : n - 1;
        return BestGrid(logRatio, first, n + 1, minCount: 1, maxSlices);
    }

    /// <summary>v1 <c>adapt_size</c>: the aspect-keeping patch grid whose product is at most (S/P)².</summary>
    internal static PixelSize AdaptSize(int width, int height, int scale, int patch)
    {
        int maxPatches = (scale / patch) * (scale / patch);
        double s = Math.Sqrt((double)scale * scale / ((double)height * width));
        int ph = Math.Clamp((int)Math.Floor(s * height / patch), 1, maxPatches);
        int pw = Math.Clamp((int)Math.Floor(s * width / patch), 1, maxPatches);
        return new PixelSize(pw * patch, ph * patch);
    }

    private static SlicePlan PlanLlavaUhdV1(
        PixelSize original, PixelSize planned, int baseStage, SlicingOptions o, StageBuilder b, ImmutableArray<string>.Builder notes)
    {
        (int w, int h) = (planned.Width, planned.Height);
        GridSize g = LlavaUhdV1Grid(w, h, o.ScaleResolution, o.MaxSlices);
        PixelSize whole = AdaptSize(w, h, o.ScaleResolution, o.PatchSize);
        var views = ImmutableArray.CreateBuilder<SliceView>();
        if (g.Count == 1)
        {
            int only = b.Resize("overview", baseStage, planned, whole, o.PreserveAspect);
            views.Add(b.View(0, ViewKind.Overview, -1, -1, only, o.TokensPerView));
            return b.Build(o, original, planned, whole, null, null, null, views, notes);
        }

        PixelSize? nominal = null;
        for (int r = 0; r < g.Rows; r++)
        {
            for (int c = 0; c < g.Columns; c++)
            {
                int x0 = (int)((long)c * w / g.Columns);
                int y0 = (int)((long)r * h / g.Rows);
                int x1 = (int)((long)(c + 1) * w / g.Columns);
                int y1 = (int)((long)(r + 1) * h / g.Rows);
                if (o.Overlap > 0)
                {
                    int ox = Math.Max(1, (int)(o.Overlap * (x1 - x0)));
                    int oy = Math.Max(1, (int)(o.Overlap * (y1 - y0)));
                    x0 = c > 0 ? x0 - ox : x0;
                    x1 = c < g.Columns - 1 ? x1 + ox : x1;
                    y0 = r > 0 ? y0 - oy : y0;
                    y1 = r < g.Rows - 1 ? y1 + oy : y1;
                }

                var box = new PixelRect(x0, y0, x1 - x0, y1 - y0);
                PixelSize size = o.V1WholeImageAdaptSize ? whole : AdaptSize(box.Width, box.Height, o.ScaleResolution, o.PatchSize);
                nominal ??= size;
                int stage = b.Crop($"slice_r{r}_c{c}", baseStage, planned, box, size, o.PreserveAspect);
                views.Add(b.View(views.Count, ViewKind.Slice, r, c, stage, o.TokensPerView));
            }
        }

        int overview = b.Resize("overview", baseStage, planned, whole, o.PreserveAspect);
        views.Add(b.View(views.Count, ViewKind.Overview, -1, -1, overview, o.TokensPerView));
        return b.Build(o, original, planned, whole, null, g, nominal, views, notes);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shared pieces: overlap, the aspect guard, grid slices, stage bookkeeping.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>The overlap in pixels on each inner side: the fraction of the smaller slice side, a whole number of patches (at least one).</summary>
    private static int OverlapPixels(double overlap, PixelSize slice, int patch)
    {
        if (overlap <= 0)
        {
            return 0;
        }

        int side = Math.Min(slice.Width, slice.Height);
        int pixels = (int)(overlap * side) / patch * patch;
        return Math.Max(pixels, patch);
    }

    private static void AddGridSlices(
        StageBuilder b, ImmutableArray<SliceView>.Builder views, int input, PixelSize inputSize, GridSize g, PixelSize cell, int overlap,
        PixelSize? resampleTo, int tokens)
    {
        var bounds = PixelRect.FromSize(inputSize);
        for (int r = 0; r < g.Rows; r++)
        {
            for (int c = 0; c < g.Columns; c++)
            {
                var rect = new PixelRect(c * cell.Width, r * cell.Height, cell.Width, cell.Height);
                if (overlap > 0)
                {
                    int x0 = c > 0 ? rect.X - overlap : rect.X;
                    int y0 = r > 0 ? rect.Y - overlap : rect.Y;
                    int x1 = c < g.Columns - 1 ? rect.Right + overlap : rect.Right;
                    int y1 = r < g.Rows - 1 ? rect.Bottom + overlap : rect.Bottom;
                    rect = new PixelRect(x0, y0, x1 - x0, y1 - y0).Intersect(bounds);
                }

                int stage = b.Crop($"slice_r{r}_c{c}", input, inputSize, rect, resampleTo ?? rect.Size, preserveAspect: false);
                views.Add(b.View(views.Count, ViewKind.Slice, r, c, stage, tokens));
            }
        }
    }

    private static (int Stage, PixelSize Planned) ApplyAspectGuard(
        PixelSize size, SlicingOptions o, StageBuilder b, ImmutableArray<string>.Builder notes)
    {
        if (o.MaxAspectRatio is not double guard)
        {
            return (PlanStage.RegionInput, size);
        }

        int longSide = Math.Max(size.Width, size.Height);
        int shortSide = Math.Min(size.Width, size.Height);
        if (longSide <= guard * shortSide)
        {
            return (PlanStage.RegionInput, size);
        }

        int padded = Math.Min(longSide, (int)Math.Ceiling(longSide / guard));
        PixelSize canvas = size.Width >= size.Height ? new PixelSize(size.Width, padded) : new PixelSize(padded, size.Height);
        var content = new PixelRect((canvas.Width - size.Width) / 2, (canvas.Height - size.Height) / 2, size.Width, size.Height);
        int stage = b.Place("canvas", size, canvas, content);
        notes.Add(string.Create(
            CultureInfo.InvariantCulture,
            $"aspect guard: {size.Width}x{size.Height} has aspect ratio {(double)longSide / shortSide:0.##}:1, above the maximum {guard:0.##}:1; planned on a padded {canvas.Width}x{canvas.Height} canvas"));
        return (stage, canvas);
    }

    /// <summary>Accumulates stages and maps view rectangles back to region coordinates.</summary>
    private sealed class StageBuilder(ResampleFilter filter)
    {
        private readonly List<PlanStage> _stages = [];
        private PixelSize _region;

        public PixelSize SizeOf(int stage, PixelSize fallback) => stage == PlanStage.RegionInput ? fallback : _stages[stage].Size;

        public int Place(string name, PixelSize region, PixelSize canvas, PixelRect content)
        {
            _region = region;
            return Add(name, PlanStage.RegionInput, PixelRect.FromSize(region), canvas, content, content);
        }

        public int Resize(string name, int input, PixelSize inputSize, PixelSize size, bool preserveAspect) =>
            Crop(name, input, inputSize, PixelRect.FromSize(inputSize), size, preserveAspect);

        public int Crop(string name, int input, PixelSize inputSize, PixelRect source, PixelSize size, bool preserveAspect)
        {
            if (input == PlanStage.RegionInput && _region == default)
            {
                _region = inputSize;
            }

            PixelRect content = preserveAspect ? Letterbox(source.Size, size) : PixelRect.FromSize(size);
            PixelRect inputValid = input == PlanStage.RegionInput ? PixelRect.FromSize(inputSize) : _stages[input].Valid;
            PixelRect valid = MapOutward(inputValid.Intersect(source), source, content).Intersect(content);
            return Add(name, input, source, size, content, valid);
        }

        public SliceView View(int index, ViewKind kind, int row, int column, int stage, int tokens)
        {
            PlanStage s = _stages[stage];
            return new SliceView(index, kind, row, column, stage, s.Size, s.Valid, tokens, Footprint(stage));
        }

        public SlicePlan Build(
            SlicingOptions o, PixelSize original, PixelSize planned, PixelSize overview, PixelSize? refined, GridSize? grid,
            PixelSize? slice, ImmutableArray<SliceView>.Builder views, ImmutableArray<string>.Builder notes) =>
            new(o, original, planned, overview, refined, grid, slice, [.. _stages], views.ToImmutable(), notes.ToImmutable());

        private int Add(string name, int input, PixelRect source, PixelSize size, PixelRect content, PixelRect valid)
        {
            _stages.Add(new PlanStage(_stages.Count, name, input, source, size, content, valid, filter));
            return _stages.Count - 1;
        }

        /// <summary>The region rectangle a stage shows, found by walking its inputs back to the region.</summary>
        private PixelRect Footprint(int stage)
        {
            double x0 = 0, y0 = 0, x1 = _stages[stage].Size.Width, y1 = _stages[stage].Size.Height;
            for (int i = stage; i != PlanStage.RegionInput; i = _stages[i].Input)
            {
                PlanStage s = _stages[i];
                // Multiply before dividing so that whole-pixel edges stay exact.
                x0 = s.Source.X + ((Math.Clamp(x0, s.Content.X, s.Content.Right) - s.Content.X) * s.Source.Width / s.Content.Width);
                x1 = s.Source.X + ((Math.Clamp(x1, s.Content.X, s.Content.Right) - s.Content.X) * s.Source.Width / s.Content.Width);
                y0 = s.Source.Y + ((Math.Clamp(y0, s.Content.Y, s.Content.Bottom) - s.Content.Y) * s.Source.Height / s.Content.Height);
                y1 = s.Source.Y + ((Math.Clamp(y1, s.Content.Y, s.Content.Bottom) - s.Content.Y) * s.Source.Height / s.Content.Height);
            }

            var rect = new PixelRect((int)Math.Floor(x0), (int)Math.Floor(y0), 0, 0);
            rect = rect with { Width = (int)Math.Ceiling(x1) - rect.X, Height = (int)Math.Ceiling(y1) - rect.Y };
            return rect.Intersect(PixelRect.FromSize(_region));
        }

        /// <summary>Maps <paramref name="r"/> (inside <paramref name="from"/>) to <paramref name="to"/>'s coordinates, rounding outward.</summary>
        private static PixelRect MapOutward(PixelRect r, PixelRect from, PixelRect to)
        {
            if (r.IsEmpty)
            {
                return default;
            }

            int x0 = to.X + (int)Math.Floor((double)(r.X - from.X) * to.Width / from.Width);
            int y0 = to.Y + (int)Math.Floor((double)(r.Y - from.Y) * to.Height / from.Height);
            int x1 = to.X + (int)Math.Ceiling((double)(r.Right - from.X) * to.Width / from.Width);
            int y1 = to.Y + (int)Math.Ceiling((double)(r.Bottom - from.Y) * to.Height / from.Height);
            return new PixelRect(x0, y0, x1 - x0, y1 - y0);
        }

        /// <summary>The largest rectangle of <paramref name="source"/>'s aspect that fits <paramref name="target"/>, centred.</summary>
        private static PixelRect Letterbox(PixelSize source, PixelSize target)
        {
            double scale = Math.Min((double)target.Width / source.Width, (double)target.Height / source.Height);
            int w = Math.Clamp((int)Math.Round(source.Width * scale), 1, target.Width);
            int h = Math.Clamp((int)Math.Round(source.Height * scale), 1, target.Height);
            return new PixelRect((target.Width - w) / 2, (target.Height - h) / 2, w, h);
        }
    }
}
