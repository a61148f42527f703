using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>
/// The decoder's key/value cache: per layer and per key/value, two pinned buffers used in turn. A step reads
/// <c>past_key_values.*</c> from one and ONNX Runtime writes <c>present.*</c> (past + new) straight into the other, so
/// the runtime copies nothing between steps; the buffers grow once to the longest sequence seen and are reused.
/// Element type (float32 or float16) comes from the decoder's metadata.
/// </summary>
internal sealed class KvCache
{
    private readonly int _layers;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly int _elementBytes;
    private byte[][] _a = [];
    private byte[][] _b = [];
    private bool _aIsPast = true;
    private readonly long[] _shape = [1, 0, 0, 0];

    public KvCache(int layers, int kvHeads, int headDim, TensorElementType elementType)
    {
        _layers = layers;
        _heads = kvHeads;
        _headDim = headDim;
        ElementType = elementType;
        _elementBytes = elementType switch
        {
            TensorElementType.Float => 4,
            TensorElementType.Float16 => 2,
            _ => throw new NotSupportedException($"KV cache element type {elementType} is not supported (float32 or float16)."),
        };
    }

    public TensorElementType ElementType { get; }

    /// <summary>Tokens the buffers can hold.</summary>
    public int Capacity { get; private set; }

    /// <summary>Tokens in the cache.</summary>
    public int Length { get; private set; }

    /// <summary>Empties the cache and makes room for <paramref name="tokens"/> tokens.</summary>
    public void Reset(int tokens)
    {
        Length = 0;
        _aIsPast = true;
        if (tokens <= Capacity)
        {
            return;
        }

        int capacity = Math.Max(tokens, Capacity * 2);
        long bytes = (long)_heads * capacity * _headDim * _elementBytes;
        _a = new byte[_layers * 2][];
        _b = new byte[_layers * 2][];
        for (int i = 0; i < _layers * 2; i++)
        {
            _a[i] = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
            _b[i] = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        }

        Capacity = capacity;
    }

    /// <summary>The past tensor of layer <paramref name="layer"/> (0 = key, 1 = value): [1, heads, Length, headDim].</summary>
    public OrtValue Past(int layer, int kv) => View(_aIsPast ? _a : _b, (layer * 2) + kv, Length);

    /// <summary>The present tensor ONNX Runtime writes for a step of <paramref name="newTokens"/>: [1, heads, Length + new, headDim].</summary>
    public OrtValue Present(int layer, int kv, int newTokens) => View(_aIsPast ? _b : _a, (layer * 2) + kv, Length + newTokens);

    /// <summary>After a step: the present buffers become the past.</summary>
    public void Advance(int newTokens)
    {
        Length += newTokens;
        _aIsPast = !_aIsPast;
    }

    private unsafe OrtValue View(byte[][] buffers, int index, int tokens)
    {
        byte[] buffer = buffers[index];
        long bytes = (long)_heads * tokens * _headDim * _elementBytes;
        fixed (byte* p = buffer)
        {
            // The array is pinned (allocated on the pinned heap), so the pointer stays valid after this block.
            _shape[1] = _heads;
            _shape[2] = tokens;
            _shape[3] = _headDim;
            return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ElementType, _shape, (IntPtr)p, bytes);
        }
    }
}
