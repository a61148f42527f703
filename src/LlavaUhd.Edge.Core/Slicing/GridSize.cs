namespace LlavaUhd.Edge.Core.Slicing;

/// <summary>A slice grid: how many columns and rows of slices.</summary>
public readonly record struct GridSize(int Columns, int Rows)
{
    public int Count => Columns * Rows;

    public override string ToString() => $"{Columns}x{Rows}";
}
