using LlavaUhd.Edge.Core.Pipeline;

namespace LlavaUhd.Edge.Cli.Commands;

/// <summary>The <c>--profile</c> value every verb that slices takes.</summary>
internal static class ProfileArgument
{
    /// <exception cref="CliException">Not one of the profile names.</exception>
    public static CompressionProfile Parse(string? value) =>
        CompressionProfiles.TryParse(value, out CompressionProfile p)
            ? p
            : throw new CliException($"--profile '{value}' is not one of {string.Join(", ", CompressionProfiles.Names)}");
}
