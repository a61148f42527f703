namespace LlavaUhd.Edge.Messaging;

/// <summary>What an incoming topic addresses.</summary>
public enum TopicKind
{
    Unknown,

    /// <summary><c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/ask</c>.</summary>
    Ask,

    /// <summary><c>&lt;prefix&gt;/shared/&lt;camera&gt;/ask</c>, taken through a shared subscription.</summary>
    SharedAsk,

    /// <summary><c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/&lt;setting&gt;/set</c>.</summary>
    Set,
}
