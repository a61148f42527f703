using System.Globalization;
using LlavaUhd.Edge.Capture.Errors;

namespace LlavaUhd.Edge.Capture.Sources;

/// <summary>All cameras (the "Capture" configuration section).</summary>
public sealed class CaptureOptions
{
    public const string SectionName = "Capture";

    public IList<CameraOptions> Cameras { get; init; } = [];

    /// <summary>
    /// Every problem in every camera, plus duplicate ids; empty when valid. <paramref name="checkPaths"/> false checks
    /// devices, files and folders for their shape only, not their existence (validating a config for another machine).
    /// <paramref name="requireCameras"/> false accepts an empty camera list (a split-inference decoder has no cameras).
    /// </summary>
    public IReadOnlyList<string> Validate(bool checkPaths = true, bool requireCameras = true)
    {
        var problems = new List<string>();
        if (requireCameras && Cameras.Count == 0)
        {
            problems.Add($"{SectionName}: Cameras is empty; configure at least one camera.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Cameras.Count; i++)
        {
            string path = string.Create(CultureInfo.InvariantCulture, $"{SectionName}:Cameras[{i}]");
            CameraOptions? camera = Cameras[i];
            if (camera is null)
            {
                problems.Add($"{path}: is empty.");
                continue;
            }

            camera.Validate(path, problems, checkPaths);
            if (!string.IsNullOrWhiteSpace(camera.Id) && !ids.Add(camera.Id))
            {
                problems.Add($"{path}: camera id '{camera.Id}' is used twice.");
            }
        }

        return problems;
    }

    public void ThrowIfInvalid()
    {
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new CaptureConfigurationException(problems);
        }
    }
}
