using System.Globalization;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// Fires when a question arrives from outside (MQTT request, HTTP, CLI): the API the service wires to its
/// request handlers. Each request gets a correlation id to match the answer to it.
/// </summary>
public sealed class OnDemandTrigger : Trigger
{
    public const int MaxQuestionLength = 4096;

    public OnDemandTrigger(string name = "on-demand", string? cameraId = null, TimeProvider? timeProvider = null)
        : base(name, cameraId, timeProvider)
    {
    }

    public override TriggerKind Kind => TriggerKind.OnDemand;

    /// <summary>Raises <see cref="Trigger.Fired"/> for <paramref name="question"/> and returns the event.</summary>
    /// <exception cref="ArgumentException">The question is empty or longer than <see cref="MaxQuestionLength"/>.</exception>
    public TriggerEvent Ask(string question, string? cameraId = null, string? correlationId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        if (question.Length > MaxQuestionLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"A question may hold at most {MaxQuestionLength} characters; got {question.Length}."), nameof(question));
        }

        return Raise("question received", question.Trim(), cameraId, correlationId ?? Guid.NewGuid().ToString("N"));
    }
}
