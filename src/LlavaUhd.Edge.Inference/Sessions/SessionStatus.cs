namespace LlavaUhd.Edge.Inference.Sessions;

/// <summary>What happened when a session was created: the provider it runs on, the providers skipped and why, build time.</summary>
public sealed record SessionStatus(
    string Session,
    string Provider,
    string State,
    DateTimeOffset Since,
    TimeSpan? Elapsed,
    IReadOnlyList<string> Fallbacks)
{
    public const string Building = "building";
    public const string Ready = "ready";
}
