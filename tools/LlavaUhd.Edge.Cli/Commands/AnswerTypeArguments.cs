using System.CommandLine;
using LlavaUhd.Edge.Core.Decoding;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>
/// <c>--answer-type yes_no|number|choice|json</c> with <c>--options a,b,c</c>, <c>--min</c>, <c>--max</c>,
/// <c>--integer</c>, <c>--schema JSON|@FILE</c>: a typed answer (docs/typed-answers.md).
/// </summary>
internal sealed class AnswerTypeArguments
{
    private readonly Option<string?> _type = new("--answer-type") { Description = "yes_no, number, choice or json: the answer is decoded to be of this type and carries a typed value." };
    private readonly Option<string?> _options = new("--options") { Description = "The options of --answer-type choice, comma-separated." };
    private readonly Option<double?> _min = new("--min") { Description = "Lowest number (--answer-type number)." };
    private readonly Option<double?> _max = new("--max") { Description = "Highest number (--answer-type number)." };
    private readonly Option<bool> _integer = new("--integer") { Description = "Whole numbers only (--answer-type number)." };
    private readonly Option<string?> _schema = new("--schema") { Description = "JSON Schema of --answer-type json (the text, or @FILE)." };

    public void AddTo(Command command)
    {
        command.Options.Add(_type);
        command.Options.Add(_options);
        command.Options.Add(_min);
        command.Options.Add(_max);
        command.Options.Add(_integer);
        command.Options.Add(_schema);
    }

    /// <summary>The typed answer the options describe, or null for free text.</summary>
    /// <exception cref="AnswerTypeException">The options do not describe a valid type.</exception>
    public AnswerType? Bind(ParseResult result)
    {
        string? type = result.GetValue(_type);
        if (type is null)
        {
            if (result.GetValue(_options) is not null || result.GetValue(_schema) is not null)
            {
                throw new AnswerTypeException("--options and --schema need --answer-type (choice, json).");
            }

            return null;
        }

        string? schema = result.GetValue(_schema);
        if (schema is not null && schema.StartsWith('@'))
        {
            string file = schema[1..];
            schema = File.Exists(file) ? File.ReadAllText(file) : throw new AnswerTypeException($"--schema file '{file}' does not exist.");
        }

        string[]? options = result.GetValue(_options)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return AnswerType.Create(type, options, result.GetValue(_min), result.GetValue(_max), result.GetValue(_integer), schema);
    }
}
