namespace LlavaUhd.Edge.Messaging;

/// <summary>The runtime-changeable settings of a camera (<c>…/&lt;camera&gt;/&lt;setting&gt;/set</c>).</summary>
public enum CameraSetting
{
    /// <summary><c>enable</c>: true/false (also ON/OFF).</summary>
    Enable,

    /// <summary><c>question</c>: the standing question asked on every trigger.</summary>
    Question,

    /// <summary><c>interval</c>: seconds between triggered answers (number &gt; 0).</summary>
    Interval,
}
