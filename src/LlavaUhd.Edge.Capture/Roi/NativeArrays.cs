using OpenCvSharp;
using OpenCvSharp.Internal;

namespace LlavaUhd.Edge.Capture.Roi;

/// <summary>
/// The native <c>cv::_InputArray</c> and <c>cv::_OutputArray</c> proxies of one <see cref="Mat"/>, created once and
/// reused for every call. OpenCvSharp's <c>Cv2</c> functions take <see cref="InputArray"/>/<see cref="OutputArray"/>
/// and convert a Mat argument implicitly into a new proxy per call (a managed object and its SafeHandle, 104 B,
/// plus a native allocation), and they dispose an <see cref="OutputArray"/> after each call, so a pre-created
/// OutputArray cannot be reused through them; hot paths call <see cref="NativeMethods"/> with these pointers instead.
/// A proxy points at the <c>cv::Mat</c> object, not at its pixels, so it stays valid when OpenCV re-allocates the
/// Mat's data (a new size); it must be disposed before (or with) its Mat. Not thread-safe.
/// </summary>
internal sealed class NativeArrays : IDisposable
{
    private IntPtr _input;
    private IntPtr _output;

    /// <param name="mat">The Mat; its owner keeps it alive at least as long as these proxies.</param>
    /// <param name="output">Whether an output proxy is needed too (input frames only need an input proxy).</param>
    public NativeArrays(Mat mat, bool output = true)
    {
        ArgumentNullException.ThrowIfNull(mat);
        mat.ThrowIfDisposed();
        Mat = mat;
        NativeMethods.HandleException(NativeMethods.core_InputArray_new_byMat(mat.CvPtr, out _input));
        if (output)
        {
            NativeMethods.HandleException(NativeMethods.core_OutputArray_new_byMat(mat.CvPtr, out _output));
        }

        GC.KeepAlive(mat);
    }

    public Mat Mat { get; }

    /// <summary>The <c>cv::_InputArray*</c> of <see cref="Mat"/>.</summary>
    public IntPtr In
    {
        get
        {
            ObjectDisposedException.ThrowIf(_input == IntPtr.Zero || Mat.IsDisposed, this);
            return _input;
        }
    }

    /// <summary>The <c>cv::_OutputArray*</c> of <see cref="Mat"/>.</summary>
    public IntPtr Out
    {
        get
        {
            ObjectDisposedException.ThrowIf(_output == IntPtr.Zero || Mat.IsDisposed, this);
            return _output;
        }
    }

    public void Dispose()
    {
        if (_input != IntPtr.Zero)
        {
            NativeMethods.HandleException(NativeMethods.core_InputArray_delete(_input));
            _input = IntPtr.Zero;
        }

        if (_output != IntPtr.Zero)
        {
            NativeMethods.HandleException(NativeMethods.core_OutputArray_delete(_output));
            _output = IntPtr.Zero;
        }
    }
}
