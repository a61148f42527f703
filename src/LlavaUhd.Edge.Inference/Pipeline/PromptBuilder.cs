using LlavaUhd.Edge.Core.Pipeline;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Prompting;
using LlavaUhd.Edge.Core.Schema;
using LlavaUhd.Edge.Core.Slicing;
using LlavaUhd.Edge.Inference.Models;
using LlavaUhd.Edge.Inference.Models.Families;

namespace LlavaUhd.Edge.Inference.Pipeline;

/// <summary>
/// What the language model will read for an image and a question, without running a model: the slice plan a
/// profile gives a region, and the prompt's token ids with the image placeholders laid out by the family's spatial
/// schema (docs/smolvlm.md §5). <see cref="VlmPipeline"/> builds every prompt through this class, and the CLI's
/// <c>prompt</c> verb prints what it builds, so the ids it prints are the ids the decoder sees.
/// </summary>
public sealed class PromptBuilder
{
    private readonly SlicePlanCache _plans = new();
    private readonly PromptTemplate _template;
    private readonly PromptTemplate _textOnly;
    private readonly SchemaLayout _layout;
    private readonly int[] _reserved;
    private readonly int _imageTokenId;
    private readonly Dictionary<int, string> _reservedNames;

    /// <summary>The most tokens a question may have (a question, not a document: the image needs the context).</summary>
    public const int MaxQuestionTokens = 512;

    /// <param name="slicing">The slicing to start from (null: the package's, the reference); profiles apply on top.</param>
    public PromptBuilder(ModelManifest manifest, TokenizerAdapter tokenizer, SlicingOptions? slicing = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        ModelFamily family = ModelFamily.Get(manifest.Family);
        _template = family.Template;
        _textOnly = family.TextOnlyTemplate;
        _layout = family.SchemaLayout;
        _reserved = [.. manifest.Tokens.Special.Values.Distinct()];
        _imageTokenId = manifest.Tokens.ImageTokenId;
        _reservedNames = [];
        foreach ((string token, int id) in manifest.Tokens.Special)
        {
            _reservedNames.TryAdd(id, token);
        }

        ReferenceSlicing = slicing ?? manifest.Slicing.ToSlicingOptions();
    }

    public TokenizerAdapter Tokenizer { get; }

    /// <summary>The slicing the model was trained with (its Detail profile).</summary>
    public SlicingOptions ReferenceSlicing { get; }

    /// <summary>The ids of every special token of the package (never allowed in a question).</summary>
    public IReadOnlyList<int> ReservedIds => _reserved;

    /// <summary>The slice plan <paramref name="profile"/> gives a region of <paramref name="size"/> pixels.</summary>
    public SlicePlan PlanFor(PixelSize size, CompressionProfile profile) => _plans.Get(size, profile.Apply(ReferenceSlicing, size));

    /// <summary>
    /// Why <paramref name="question"/> cannot be asked (it spells a reserved token such as <c>&lt;image&gt;</c>, or has
    /// more than <see cref="MaxQuestionTokens"/> tokens), or null: the check every entry point runs before queueing work.
    /// </summary>
    public QuestionProblem? Check(string question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var ids = new List<int>(Math.Min(question.Length + 1, 8192));
        Tokenizer.Encode(question, ids);
        foreach (int id in ids)
        {
            if (id == _imageTokenId || _reservedNames.ContainsKey(id))
            {
                string name = _reservedNames.TryGetValue(id, out string? n) ? n : "<image>";
                return new QuestionProblem(QuestionProblem.ReservedToken, $"The question contains the reserved model token {name}; remove it and ask again.");
            }
        }

        return ids.Count > MaxQuestionTokens
            ? new QuestionProblem(QuestionProblem.TooLong, $"The question has {ids.Count} tokens; at most {MaxQuestionTokens} are allowed.")
            : null;
    }

    /// <summary>
    /// The prompt for <paramref name="question"/> about an image sliced by <paramref name="plan"/> (null: no image),
    /// with <paramref name="keptPerView"/> placeholders per view (after pruning; null: every view's full count).
    /// </summary>
    /// <exception cref="PromptException">The question is too long or contains a reserved token.</exception>
    public AssembledPrompt Build(SlicePlan? plan, string question, IReadOnlyList<int>? keptPerView = null)
    {
        PromptLayout? layout = plan is null ? null : SpatialSchema.Build(plan, _layout, tokensPerView: keptPerView);
        return PromptAssembler.Assemble(plan is null ? _textOnly : _template, layout, question, Tokenizer, _imageTokenId, _reserved);
    }
}
