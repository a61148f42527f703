using System.Device.Gpio;
using System.Globalization;
using Iot.Device.Hcsr501;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>Fires when a HC-SR501 PIR sensor (Iot.Device.Bindings' <see cref="Hcsr501"/>) reports motion, at most once per cooldown.</summary>
public sealed class PirTrigger : Trigger
{
    private readonly Hcsr501 _sensor;
    private readonly Debouncer _cooldown;
    private readonly int _pin;

    public PirTrigger(GpioController controller, PirTriggerOptions options, TimeProvider? timeProvider = null)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _pin = options.Pin;
        _cooldown = new Debouncer(Time, TimeSpan.FromMilliseconds(options.CooldownMs));
        _sensor = new Hcsr501(options.Pin, controller, shouldDispose: false);
        _sensor.Hcsr501ValueChanged += OnChanged;
    }

    public override TriggerKind Kind => TriggerKind.Pir;

    public bool IsMotionDetected => _sensor.IsMotionDetected;

    private void OnChanged(object sender, Hcsr501ValueChangedEventArgs e)
    {
        if (e.PinValue == PinValue.High && _cooldown.TryAccept())
        {
            Raise(string.Create(CultureInfo.InvariantCulture, $"PIR on pin {_pin} detected motion"));
        }
    }

    private static PirTriggerOptions Checked(PirTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(PirTrigger));
        return options;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sensor.Hcsr501ValueChanged -= OnChanged;
            _sensor.Dispose();
        }

        base.Dispose(disposing);
    }
}
