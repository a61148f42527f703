namespace LlavaUhd.Edge.Core.Schema;

/// <summary>The prompt layouts the model families were trained with.</summary>
public enum SchemaLayout
{
    /// <summary>MiniCPM-V 2.6 / o-2.6 / 4.x: [<c>&lt;image_id&gt;k&lt;/image_id&gt;</c>] <c>&lt;image&gt;Q&lt;/image&gt;</c>, then rows of <c>&lt;slice&gt;Q&lt;/slice&gt;</c> joined by newlines.</summary>
    MiniCpmV26,

    /// <summary>MiniCPM-V 2.0 / Llama3-V 2.5: <c>&lt;image&gt;Q&lt;/image&gt;</c> + <c>&lt;slice&gt;</c> rows of <c>&lt;image&gt;Q&lt;/image&gt;</c> joined by newlines <c>&lt;/slice&gt;</c>.</summary>
    MiniCpmV25,

    /// <summary>Idefics3 / SmolVLM: <c>&lt;fake_token_around_image&gt;&lt;row_r_col_c&gt;</c> tiles, then the <c>&lt;global-img&gt;</c>.</summary>
    Idefics3,

    /// <summary>LLaVA-UHD v1: <c>,</c> between the slices of a row, <c>\n</c> after every row, then the overview.</summary>
    LlavaUhdV1,
}
