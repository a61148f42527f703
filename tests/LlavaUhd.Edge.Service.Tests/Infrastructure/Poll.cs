namespace LlavaUhd.Edge.Service.Tests.Infrastructure;

/// <summary>Waits for a condition that another thread makes true (an event, not a duration: the deadline only ends a hung test).</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, double seconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (!condition())
        {
            await Task.Delay(50, cts.Token);
        }
    }
}
