#!/usr/bin/python3
"""A real RTSP server for the camera tests: GStreamer's RTSP server (Debian: gir1.2-gst-rtsp-server-1.0, python3-gi,
gstreamer1.0-plugins-good/-bad) serving an H.264 or H.265 file that ffmpeg made, without re-encoding, over TCP and UDP.

    rtsp_server.py PORT MOUNT FILE h264|h265

Prints "ready" once it listens; ends when its standard input closes (so it never outlives the test that started it).
A stall is made outside, by a TCP proxy that stops forwarding (dropping packets here is no stall: the server's RTCP
then sends BYE and the client ends the session)."""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port, mount, path, codec = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
demux = "qtdemux" if path.endswith(".mp4") else "matroskademux"
Gst.init(None)


server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(f"( filesrc location={path} ! {demux} ! {codec}parse ! rtp{codec}pay name=pay0 pt=96 config-interval=-1 )")
factory.set_shared(True)
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    print("error: cannot listen on port " + port, flush=True)
    sys.exit(1)


def on_stdin(channel, condition):
    if not sys.stdin.readline():
        loop.quit()
        return False
    return True


loop = GLib.MainLoop()
GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, on_stdin)
print("ready", flush=True)
loop.run()
