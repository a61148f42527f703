namespace LlavaUhd.Edge.Messaging.SparkplugB;

/// <summary>
/// The Sparkplug B topics of one edge node: <c>spBv1.0/&lt;group&gt;/&lt;type&gt;/&lt;node&gt;[/&lt;device&gt;]</c>
/// (docs/sparkplug-b.md).
/// </summary>
public sealed class SparkplugTopics
{
    /// <summary>The Sparkplug B topic namespace, the first level of every topic.</summary>
    public const string Namespace = "spBv1.0";

    public SparkplugTopics(string groupId, string edgeNodeId)
    {
        if (!IsValidId(groupId))
        {
            throw new ArgumentException($"Invalid Sparkplug group id '{groupId}'.", nameof(groupId));
        }

        if (!IsValidId(edgeNodeId))
        {
            throw new ArgumentException($"Invalid Sparkplug edge node id '{edgeNodeId}'.", nameof(edgeNodeId));
        }

        GroupId = groupId;
        EdgeNodeId = edgeNodeId;
    }

    public string GroupId { get; }

    public string EdgeNodeId { get; }

    public string NodeBirth => Node("NBIRTH");

    public string NodeDeath => Node("NDEATH");

    public string NodeData => Node("NDATA");

    /// <summary>Commands to the node (subscribed): <c>Node Control/Rebirth</c>.</summary>
    public string NodeCommand => Node("NCMD");

    public string DeviceBirth(string device) => Device("DBIRTH", device);

    public string DeviceData(string device) => Device("DDATA", device);

    public string DeviceDeath(string device) => Device("DDEATH", device);

    /// <summary>
    /// A group, edge node or device id: 1..64 characters without the topic separators and wildcards ('/', '+', '#')
    /// or control characters (Sparkplug 3.0 forbids the first three in ids).
    /// </summary>
    public static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.AsSpan().IndexOfAny("/+#") < 0 && !id.Any(char.IsControl);

    private string Node(string type) => $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}";

    private string Device(string type, string device) => IsValidId(device)
        ? $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}/{device}"
        : throw new ArgumentException($"Invalid Sparkplug device id '{device}'.", nameof(device));
}
