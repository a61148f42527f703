namespace LlavaUhd.Edge.Inference.Models;

/// <summary>MiniCPM-V / Idefics2 patch positions: each patch's fractional coordinates bucketed into a grid×grid table.</summary>
public static class PatchPositions
{
    public static long[] Bucketed(int rows, int cols, int grid)
    {
        long[] ids = new long[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                ids[(r * cols) + c] = (Bucket(r, rows, grid) * grid) + Bucket(c, cols, grid);
            }
        }

        return ids;
    }

    // torch.bucketize(arange(0, 1 - 1e-6, 1/n)[i], arange(1/grid, 1, 1/grid), right=True)
    private static long Bucket(int i, int n, int grid) => Math.Min(grid - 1, (long)Math.Floor((double)i / n * grid + 1e-9));
}
