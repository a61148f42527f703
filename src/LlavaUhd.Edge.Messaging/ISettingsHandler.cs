namespace LlavaUhd.Edge.Messaging;

/// <summary>Applies a camera setting received on <c>…/&lt;camera&gt;/&lt;setting&gt;/set</c>.</summary>
public interface ISettingsHandler
{
    /// <summary>Applies the change; null when applied (its state is then published), else why it was refused.</summary>
    ValueTask<RequestError?> ApplyAsync(SettingChange change, CancellationToken cancellationToken);
}
