namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Drive an output pin when an answer matches a condition: held while answers match, or a pulse.</summary>
public sealed class GpioOutputOptions
{
    public string Name { get; set; } = "output";

    public int Pin { get; set; } = -1;

    public string Match { get; set; } = "";

    public AnswerMatch MatchKind { get; set; } = AnswerMatch.Contains;

    /// <summary>True: High means active. False: Low means active (active-low relays).</summary>
    public bool ActiveHigh { get; set; } = true;

    /// <summary>0: the pin follows the last answer (active while it matches). Above 0: an active pulse this long.</summary>
    public int PulseMs { get; set; }

    internal void Validate(string path, List<string> problems)
    {
        TriggerOptions.Require(!string.IsNullOrWhiteSpace(Name), path, $"Name is required.", problems);
        TriggerOptions.Require(Pin is >= 0 and <= 1023, path, $"Pin must be between 0 and 1023; got {Pin}.", problems);
        TriggerOptions.Require(!string.IsNullOrEmpty(Match), path, $"Match is required (the text or pattern an answer must match).", problems);
        TriggerOptions.Require(Enum.IsDefined(MatchKind), path, $"MatchKind must be Contains, Equals or Regex; got {MatchKind}.", problems);
        TriggerOptions.Require(PulseMs is >= 0 and <= 600_000, path, $"PulseMs must be between 0 and 600000; got {PulseMs}.", problems);
        if (MatchKind == AnswerMatch.Regex && !string.IsNullOrEmpty(Match))
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(Match);
            }
            catch (ArgumentException ex)
            {
                problems.Add($"{path}: Match is not a valid regular expression: {ex.Message}");
            }
        }
    }
}
