namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>Process exit codes shared by every verb.</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Ok = 0;

    /// <summary>The input was read but some of it failed (a bad size line, a bad packet).</summary>
    public const int Failed = 1;

    /// <summary>The command line or an input file is invalid; nothing was done.</summary>
    public const int Usage = 2;
}
