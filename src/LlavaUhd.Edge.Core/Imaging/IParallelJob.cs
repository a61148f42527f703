namespace LlavaUhd.Edge.Core.Imaging;

/// <summary>A unit of row-parallel work: <see cref="Execute"/> handles items [begin, end) on worker <c>worker</c>.</summary>
internal interface IParallelJob
{
    void Execute(int begin, int end, int worker);
}
