namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>What kind of trigger fired.</summary>
public enum TriggerKind
{
    Interval,
    Motion,
    Gpio,
    Pir,
    OnDemand,
}
