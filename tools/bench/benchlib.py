"""Shared pieces of the benchmarks: the built binaries, real media laid out as an
archive (hard links under true hashes), wubd processes on free loopback ports."""
import base64
import glob
import hashlib
import grp
import os
import pwd
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
WUBD = os.path.join(BUILD, "wubd")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid, children=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    return (own + (int(fields[13]) + int(fields[14]) if children else 0)) / TICKS


def segment_hash(data):
    return base64.b64encode(hashlib.sha256(data).digest(), b"-_").decode().rstrip("=")


def make_media(work, count=10):
    """`count` distinct ~0.8 MB segments (3 Mbit/s, 2 s), encoded once."""
    out = os.path.join(work, "media")
    os.makedirs(out)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc=duration={2 * count}:size=640x360:rate=30", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "60", "-b:v", "3M", "-minrate", "3M", "-maxrate", "3M",
                    "-bufsize", "3M", "-x264-params", "nal-hrd=cbr", "-f", "segment", "-segment_time", "2",
                    os.path.join(out, "s%02d.ts")], check=True)
    files = sorted(glob.glob(os.path.join(out, "s*.ts")))[:count]
    return [(path, segment_hash(open(path, "rb").read())) for path in files]


def lay_out(base, stream, variant, hour_start, segments, media):
    """`segments` 2-second segments from `hour_start` (epoch seconds), as hard links."""
    for i in range(segments):
        start = hour_start + 2 * i
        path, digest = media[i % len(media)]
        hour = time.strftime("%Y-%m-%dT%H", time.gmtime(start))
        directory = os.path.join(base, stream, variant, hour)
        os.makedirs(directory, exist_ok=True)
        name = time.strftime("%M:%S", time.gmtime(start)) + f".000000-2.0-full-{digest}.ts"
        os.link(path, os.path.join(directory, name))


def start_wubd(base, *args, log_path):
    port = free_port()
    proc = subprocess.Popen([WUBD, "--listen", f"127.0.0.1:{port}", "--base-dir", base, *args],
                            stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "listening on" in open(log_path).read():
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.01)
    sys.exit("wubd did not start: " + open(log_path).read())


def start_nginx(base, work):
    """nginx (sendfile on) serving `base` under /segments/ on a free loopback port: the
    physical reference the benchmarks compare with."""
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    # Started as root, nginx runs its worker as `nobody`, who cannot enter this 0700
    # work directory: keep the caller's own user (the directive is only read as root).
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"""
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types {{ video/MP2T ts; }}
  server {{
    listen 127.0.0.1:{port};
    location /segments/ {{ alias {base}/; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", work], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.02)
    return proc, f"http://127.0.0.1:{port}"
