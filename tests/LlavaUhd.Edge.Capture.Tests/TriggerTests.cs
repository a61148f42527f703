using System.Device.Gpio;
using LlavaUhd.Edge.Capture.Errors;
using LlavaUhd.Edge.Capture.Roi;
using LlavaUhd.Edge.Capture.Tests.Fakes;
using LlavaUhd.Edge.Capture.Triggers;
using LlavaUhd.Edge.Core.Capture;
using LlavaUhd.Edge.Core.Imaging;
using LlavaUhd.Edge.Core.Slicing;
using Microsoft.Extensions.Time.Testing;

namespace LlavaUhd.Edge.Capture.Tests;

public sealed class TriggerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Gpio_RisingEdges_FireWithDebounce()
    {
        var driver = new FakeGpioDriver();
        using var controller = new GpioController(driver);
        var clock = new FakeTimeProvider(Start);
        using var trigger = new GpioTrigger(controller, new GpioTriggerOptions { Name = "door", Pin = 17, DebounceMs = 50, CameraId = "cam" }, clock);
        var events = new List<TriggerEvent>();
        trigger.Fired += (_, e) => events.Add(e);

        driver.Pulse(17);
        clock.Advance(TimeSpan.FromMilliseconds(5));
        driver.Pulse(17); // bounce: ignored
        clock.Advance(TimeSpan.FromMilliseconds(20));
        driver.Pulse(17); // still inside 50 ms of the first: ignored
        Assert.Single(events);
        clock.Advance(TimeSpan.FromMilliseconds(60));
        driver.Pulse(17);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal((TriggerKind.Gpio, "door", "cam"), (e.Kind, e.TriggerName, e.CameraId)));
        Assert.Contains("Rising", events[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Gpio_FallingEdgeConfigured_IgnoresRising()
    {
        var driver = new FakeGpioDriver();
        using var controller = new GpioController(driver);
        using var trigger = new GpioTrigger(controller, new GpioTriggerOptions { Pin = 5, Edge = PinEventTypes.Falling, Mode = PinMode.InputPullUp, DebounceMs = 0 });
        int fired = 0;
        trigger.Fired += (_, _) => fired++;
        driver.SimulateInput(5, PinValue.High);
        Assert.Equal(0, fired);
        driver.SimulateInput(5, PinValue.Low);
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Pir_Hcsr501OnSimulatedDriver_FiresOnMotion_WithCooldown()
    {
        var driver = new FakeGpioDriver();
        using var controller = new GpioController(driver);
        var clock = new FakeTimeProvider(Start);
        using var pir = new PirTrigger(controller, new PirTriggerOptions { Pin = 4, CooldownMs = 1000 }, clock);
        int fired = 0;
        pir.Fired += (_, e) =>
        {
            Assert.Equal(TriggerKind.Pir, e.Kind);
            fired++;
        };

        driver.SimulateInput(4, PinValue.High);
        Assert.True(pir.IsMotionDetected);
        driver.SimulateInput(4, PinValue.Low);
        Assert.False(pir.IsMotionDetected);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        driver.SimulateInput(4, PinValue.High); // within the cooldown
        driver.SimulateInput(4, PinValue.Low);
        Assert.Equal(1, fired);
        clock.Advance(TimeSpan.FromSeconds(1));
        driver.SimulateInput(4, PinValue.High);
        Assert.Equal(2, fired);
    }

    [Fact]
    public void GpioOutput_DrivesPinWhenAnswerMatches()
    {
        var driver = new FakeGpioDriver();
        using var controller = new GpioController(driver);
        using var output = new GpioOutput(controller, new GpioOutputOptions { Pin = 22, Match = @"\bjam(med)?\b", MatchKind = AnswerMatch.Regex });
        Assert.True(output.Apply("Yes, the belt is JAMMED near the gauge."));
        Assert.Equal(PinValue.High, controller.Read(22));
        Assert.False(output.Apply("The belt runs normally."));
        Assert.Equal(PinValue.Low, controller.Read(22));

        using var activeLow = new GpioOutput(controller, new GpioOutputOptions { Pin = 23, Match = "yes", MatchKind = AnswerMatch.Equals, ActiveHigh = false });
        Assert.Equal(PinValue.High, controller.Read(23));
        activeLow.Apply(" Yes ");
        Assert.Equal(PinValue.Low, controller.Read(23));
    }

    [Fact]
    public void GpioOutput_Pulse_ReturnsToInactive()
    {
        var driver = new FakeGpioDriver();
        using var controller = new GpioController(driver);
        var clock = new FakeTimeProvider(Start);
        using var output = new GpioOutput(controller, new GpioOutputOptions { Pin = 6, Match = "fire", PulseMs = 30 }, clock);
        output.Apply("fire detected");
        Assert.Equal(PinValue.High, controller.Read(6));
        clock.Advance(TimeSpan.FromMilliseconds(29));
        Assert.Equal(PinValue.High, controller.Read(6));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(PinValue.Low, controller.Read(6));
    }

    [Fact]
    public void Interval_FiresRepeatedly_AndStopsWhenDisposed()
    {
        int fired = 0;
        var clock = new FakeTimeProvider(Start);
        var trigger = new IntervalTrigger(new IntervalTriggerOptions { IntervalMs = 20 }, clock);
        trigger.Fired += (_, _) => fired++;
        clock.Advance(TimeSpan.FromMilliseconds(19));
        Assert.Equal(0, fired);
        for (int i = 1; i <= 3; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            Assert.Equal(i, fired);
        }

        trigger.Dispose();
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, fired);
    }

    [Fact]
    public void OnDemand_RaisesQuestionWithCorrelationId()
    {
        using var trigger = new OnDemandTrigger(cameraId: "line1");
        TriggerEvent? seen = null;
        trigger.Fired += (_, e) => seen = e;
        TriggerEvent e = trigger.Ask("  Is the belt jammed? ", correlationId: "req-7");
        Assert.Same(e, seen);
        Assert.Equal(("Is the belt jammed?", "req-7", "line1", TriggerKind.OnDemand), (e.Question, e.CorrelationId, e.CameraId, e.Kind));
        Assert.Throws<ArgumentException>(() => trigger.Ask(" "));
    }

    [Fact]
    public void Motion_FiresOnlyForMotionInItsZone_WithCooldown()
    {
        ZoneOptions belt = ZoneOptions.FromRect("belt", 0.5, 0, 0.5, 1);
        using var trigger = new MotionTrigger(new MotionTriggerOptions { Zone = "belt", CooldownMs = 1000 }, [belt]);
        byte[] pixels = new byte[100 * 100 * 3];
        var view = ImageView.Packed(pixels, 100, 100, PixelFormat.Bgr24);
        var t0 = DateTimeOffset.UnixEpoch;
        using var f0 = new Frame(view, t0, 0, "cam");
        Assert.Null(trigger.Observe(f0, [f0.Crop(new PixelRect(0, 0, 20, 20), RegionReason.Motion)])); // left half: not the belt
        Assert.NotNull(trigger.Observe(f0, [f0.Crop(new PixelRect(60, 10, 20, 20), RegionReason.Motion)]));
        using var f1 = new Frame(view, t0.AddMilliseconds(500), 1, "cam");
        Assert.Null(trigger.Observe(f1, [f1.Crop(new PixelRect(60, 10, 20, 20), RegionReason.Motion)])); // cooldown
        using var f2 = new Frame(view, t0.AddMilliseconds(1500), 2, "cam");
        Assert.NotNull(trigger.Observe(f2, [f2.Crop(new PixelRect(60, 10, 20, 20), RegionReason.Motion)]));
        Assert.Equal(2, trigger.FiredCount);
    }

    [Fact]
    public void Options_Invalid_ListEveryProblem()
    {
        var options = new TriggerOptions
        {
            Interval = { new IntervalTriggerOptions { IntervalMs = 0 } },
            Gpio = { new GpioTriggerOptions { Name = "a", Pin = -1 }, new GpioTriggerOptions { Name = "b", Pin = 4, Edge = PinEventTypes.None } },
            Pir = { new PirTriggerOptions { Name = "a", Pin = 4 } },
            Outputs = { new GpioOutputOptions { Pin = 9, Match = "(", MatchKind = AnswerMatch.Regex } },
        };
        IReadOnlyList<string> problems = options.Validate();
        string all = string.Join('\n', problems);
        Assert.Contains("IntervalMs", all, StringComparison.Ordinal);
        Assert.Contains("Pin must be between", all, StringComparison.Ordinal);
        Assert.Contains("Edge must be", all, StringComparison.Ordinal);
        Assert.Contains("name 'a' is used twice", all, StringComparison.Ordinal);
        Assert.Contains("pin 4 is used twice", all, StringComparison.Ordinal);
        Assert.Contains("not a valid regular expression", all, StringComparison.Ordinal);
        Assert.Throws<CaptureConfigurationException>(options.ThrowIfInvalid);
    }
}
