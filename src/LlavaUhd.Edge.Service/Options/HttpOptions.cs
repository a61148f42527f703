using System.Globalization;
using System.Net;

namespace LlavaUhd.Edge.Service.Options;

/// <summary>
/// The <c>Http</c> configuration section: the optional HTTP endpoints on Kestrel (<c>/metrics</c>, <c>/healthz</c>,
/// <c>/readyz</c>, <c>/api/status</c>, snapshots, the status page; docs/http.md). Off unless <see cref="Port"/> is set.
/// </summary>
internal sealed class HttpOptions
{
    public const string SectionName = "Http";

    /// <summary>The TCP port Kestrel listens on; 0 (the default) turns the HTTP endpoints off.</summary>
    public int Port { get; set; }

    /// <summary>
    /// The address Kestrel binds: an IP address, or <c>localhost</c>. The default, <c>127.0.0.1</c>, keeps the
    /// endpoints (which have no authentication and show camera images) on the device itself; set <c>0.0.0.0</c> (or
    /// <c>::</c>) to let a Prometheus server or a browser on the network reach them.
    /// </summary>
    public string Address { get; set; } = "127.0.0.1";

    public bool Enabled => Port != 0;

    /// <summary>The endpoint to listen on; only valid when <see cref="Problems"/> found none.</summary>
    public IPEndPoint EndPoint() =>
        new(string.Equals(Address, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(Address), Port);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Http:Port = {Port} must be 0 (HTTP off) or a TCP port 1–65535."));
        }

        if (string.IsNullOrWhiteSpace(Address))
        {
            problems.Add("Http:Address is empty; use an IP address such as 127.0.0.1 (this device only) or 0.0.0.0 (every interface), or localhost.");
        }
        else if (!string.Equals(Address, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Address, out _))
        {
            problems.Add($"Http:Address '{Address}' is not an IP address; use 127.0.0.1 (this device only), 0.0.0.0 (every interface), :: or localhost.");
        }

        return problems;
    }
}
