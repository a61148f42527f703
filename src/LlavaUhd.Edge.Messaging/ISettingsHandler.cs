namespace LlavaUhd.Edge.Messaging;

/// <summary>Applies a camera setting received on <c>…/&lt;camera&gt;/&lt;setting&gt;/set</c>.</summary>
public interface ISettingsHandler
{
    /// <summary>Applies the change; null when applied (its state is then published), else why it was refused.</summary>
    ValueTask<RequestError?> ApplyAsync(SettingChange change, CancellationToken cancellationToken);

    /// <summary>
    /// The answer type (<c>answer_type</c> name) of the camera's changeable question as it is now, for its retained
    /// <c>…/question/state</c> — a plain-text change keeps the type, so the change alone does not tell it. Null: free text.
    /// </summary>
    string? AnswerTypeOf(string camera) => null;
}
