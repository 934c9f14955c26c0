"""Real media for the integration tests: 2-second MPEG-TS segments made by ffmpeg
(lavfi testsrc + sine, libx264 with a keyframe at every segment start, aac), laid
out as a wubd/wubloader archive with holes, partials, duplicates and junk."""
import base64
import datetime
import hashlib
import os
import subprocess
import tempfile

SEGMENT_SECONDS = 2
_media_cache = {}


def _encode_segments(key, count, video_input, video_options):
    """Encodes `count` contiguous 2 s segments (video from `video_input`, a 440 Hz
    sine as aac) once per process; returns their bytes."""
    if key in _media_cache:
        return _media_cache[key]
    out_dir = tempfile.mkdtemp(prefix="wubd-media-")
    seconds = count * SEGMENT_SECONDS
    subprocess.run([
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", video_input(seconds),
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", *video_options, "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
        "-c:a", "aac", "-b:a", "64k",
        "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-segment_format", "mpegts",
        os.path.join(out_dir, "seg%04d.ts"),
    ], check=True)
    segments = []
    for i in range(count):
        with open(os.path.join(out_dir, f"seg{i:04d}.ts"), "rb") as f:
            segments.append(f.read())
    _media_cache[key] = segments
    return segments


def make_segments(count, size="320x240", video_bitrate=None):
    """`count` contiguous 2 s segments of lavfi's testsrc (keyframes at every segment
    start, no B-frames). `video_bitrate` ("3M") pins the size of each segment, as a
    real stream's is."""
    return _encode_segments(
        (count, size, video_bitrate), count, lambda seconds: f"testsrc=duration={seconds}:size={size}:rate=30",
        ["-preset", "ultrafast",
         *(["-b:v", video_bitrate, "-minrate", video_bitrate, "-maxrate", video_bitrate,
            "-bufsize", video_bitrate, "-x264-params", "nal-hrd=cbr"] if video_bitrate else [])])


COUNTER_BITS = 12  # frame numbers up to 4095 (136 s at 30 fps)


def make_counter_segments(count):
    """`count` contiguous 2 s segments whose frames show their own number: 12 bars,
    black or white for each bit (robust to re-encoding; read back with
    frame_numbers). 30 fps, a keyframe every 2 s, B-frames (so dts lags pts), aac."""
    bars = "if(bitand(N\\,pow(2\\,floor(Y/8)))\\,235\\,16)"
    return _encode_segments(
        ("counter", count), count,
        lambda seconds: f"nullsrc=s=64x{8 * COUNTER_BITS}:r=30:d={seconds},geq=lum='{bars}':cb=128:cr=128",
        ["-preset", "veryfast"])


def frame_numbers(path):
    """The numbers shown by a counter clip's frames, in presentation order."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-vf", f"format=gray,scale=1:{COUNTER_BITS}:flags=area", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    numbers = []
    for i in range(0, len(raw) - COUNTER_BITS + 1, COUNTER_BITS):
        bars = raw[i:i + COUNTER_BITS]
        numbers.append(sum(1 << bit for bit, value in enumerate(bars) if value >= 128))
    return numbers


def segment_hash(data):
    """wubloader's name hash: sha256, url-safe base64 ('-' and '_'), no padding."""
    return base64.b64encode(hashlib.sha256(data).digest(), b"-_").decode().rstrip("=")


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)


def segment_name(start, duration="2.0", kind="full", data=b""):
    """(hour, file name) of a segment starting at `start` (a datetime)."""
    hour = start.strftime("%Y-%m-%dT%H")
    digest = segment_hash(data) if kind != "temp" else "0b7e3c1a-9f2d-4c55-8e1b-2f0c9d6a7b11"
    return hour, f"{start.strftime('%M:%S.%f')}-{duration}-{kind}-{digest}.ts"


def write_segment(base_dir, stream, variant, start, data, duration="2.0", kind="full"):
    """Writes one segment file; returns its path relative to base_dir."""
    hour, name = segment_name(start, duration, kind, data)
    directory = os.path.join(base_dir, stream, variant, hour)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)
    return f"{stream}/{variant}/{hour}/{name}"
