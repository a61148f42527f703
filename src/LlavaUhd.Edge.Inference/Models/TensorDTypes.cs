namespace LlavaUhd.Edge.Inference.Models;

/// <summary>Element types as written in <c>model.json</c>.</summary>
public static class TensorDTypes
{
    public const string Float32 = "float32";
    public const string Float16 = "float16";
    public const string Int64 = "int64";
    public const string Int32 = "int32";
    public const string Int8 = "int8";
    public const string Uint8 = "uint8";
    public const string Bool = "bool";

    /// <summary>A contract entry that accepts float32 or float16 (half variants keep some float tensors in fp16).</summary>
    public const string AnyFloat = "float";

    public static bool Accepts(string contractDType, string actual) =>
        contractDType == AnyFloat ? actual is Float32 or Float16 : contractDType == actual;
}
