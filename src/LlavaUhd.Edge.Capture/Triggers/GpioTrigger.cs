using System.Device.Gpio;
using System.Globalization;

namespace LlavaUhd.Edge.Capture.Triggers;

/// <summary>
/// Fires on an edge of a GPIO input through a <see cref="GpioController"/> (inject it: a real board's controller, or
/// one over a simulated <see cref="GpioDriver"/> in tests). Edges within the debounce window of the last accepted
/// edge are ignored (contact bounce). The controller is not disposed unless <c>shouldDispose</c>.
/// </summary>
public sealed class GpioTrigger : Trigger
{
    private readonly GpioController _controller;
    private readonly GpioTriggerOptions _options;
    private readonly Debouncer _debouncer;
    private readonly bool _shouldDispose;

    public GpioTrigger(GpioController controller, GpioTriggerOptions options, TimeProvider? timeProvider = null, bool shouldDispose = false)
        : base(Checked(options).Name, options.CameraId, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        _options = options;
        _shouldDispose = shouldDispose;
        _debouncer = new Debouncer(Time, TimeSpan.FromMilliseconds(options.DebounceMs));
        if (!controller.IsPinOpen(options.Pin))
        {
            controller.OpenPin(options.Pin, options.Mode);
        }
        else
        {
            controller.SetPinMode(options.Pin, options.Mode);
        }

        controller.RegisterCallbackForPinValueChangedEvent(options.Pin, options.Edge, OnEdge);
    }

    public override TriggerKind Kind => TriggerKind.Gpio;

    private void OnEdge(object sender, PinValueChangedEventArgs e)
    {
        if (_debouncer.TryAccept())
        {
            Raise(string.Create(CultureInfo.InvariantCulture, $"pin {e.PinNumber} {e.ChangeType}"));
        }
    }

    private static GpioTriggerOptions Checked(GpioTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TriggerOptions.ThrowIfInvalid(options.Validate, nameof(GpioTrigger));
        return options;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _controller.UnregisterCallbackForPinValueChangedEvent(_options.Pin, OnEdge);
            if (_controller.IsPinOpen(_options.Pin))
            {
                _controller.ClosePin(_options.Pin);
            }

            if (_shouldDispose)
            {
                _controller.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
