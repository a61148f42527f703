using LlavaUhd.Edge.ModelBuilder.Generation;

namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>The generated tiny-smolvlm package (random weights), made once per test run and shared.</summary>
public static class TinyModel
{
    private static readonly Lazy<string> s_path = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "llava-edge-service-tests-" + Environment.ProcessId, ModelPreset.TinySmolVlm);
        if (!File.Exists(Path.Combine(dir, "model.json")))
        {
            PackageGenerator.Generate(ModelPreset.Get(ModelPreset.TinySmolVlm), dir, seed: 7);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return dir;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Dir => s_path.Value;
}
