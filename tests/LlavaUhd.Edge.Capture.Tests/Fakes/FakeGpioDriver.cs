using System.Device.Gpio;

namespace LlavaUhd.Edge.Capture.Tests.Fakes;

/// <summary>
/// A simulated GPIO driver: pins hold values in memory, <see cref="SimulateInput"/> sets an input pin and raises
/// the Rising/Falling callbacks a real chip would. System.Device.Gpio ships no fake; <see cref="GpioDriver"/> can be
/// subclassed, which is how the library's own tests simulate a chip.
/// </summary>
internal sealed class FakeGpioDriver : GpioDriver
{
    private readonly Dictionary<int, PinValue> _values = [];
    private readonly Dictionary<int, PinMode> _modes = [];
    private readonly List<(int Pin, PinEventTypes Types, PinChangeEventHandler Handler)> _callbacks = [];
    private readonly Lock _lock = new();

    public List<(int Pin, PinValue Value)> Writes { get; } = [];

    protected override int PinCount => 64;

    protected override void OpenPin(int pinNumber)
    {
        lock (_lock)
        {
            _values.TryAdd(pinNumber, PinValue.Low);
            _modes.TryAdd(pinNumber, PinMode.Input);
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_lock)
        {
            _values.Remove(pinNumber);
            _modes.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_lock)
        {
            _modes[pinNumber] = mode;
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_lock)
        {
            return _modes[pinNumber];
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber)
    {
        lock (_lock)
        {
            return _values.GetValueOrDefault(pinNumber, PinValue.Low);
        }
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (_lock)
        {
            _values[pinNumber] = value;
            Writes.Add((pinNumber, value));
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        cancellationToken.WaitHandle.WaitOne();
        return new WaitForEventResult { TimedOut = true, EventTypes = PinEventTypes.None };
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_lock)
        {
            _callbacks.Add((pinNumber, eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_lock)
        {
            _callbacks.RemoveAll(c => c.Pin == pinNumber && c.Handler == callback);
        }
    }

    /// <summary>Sets an input pin's level as the outside world would, raising the matching edge callbacks.</summary>
    public void SimulateInput(int pinNumber, PinValue value)
    {
        List<(int Pin, PinEventTypes Types, PinChangeEventHandler Handler)> targets;
        PinEventTypes edge;
        lock (_lock)
        {
            PinValue old = _values.GetValueOrDefault(pinNumber, PinValue.Low);
            _values[pinNumber] = value;
            if (old == value)
            {
                return;
            }

            edge = value == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
            targets = _callbacks.Where(c => c.Pin == pinNumber && (c.Types & edge) != 0).ToList();
        }

        foreach ((int pin, _, PinChangeEventHandler handler) in targets)
        {
            handler(this, new PinValueChangedEventArgs(edge, pin));
        }
    }

    /// <summary>A rising then a falling edge.</summary>
    public void Pulse(int pinNumber)
    {
        SimulateInput(pinNumber, PinValue.High);
        SimulateInput(pinNumber, PinValue.Low);
    }
}
