"""The README's first command, headless: `tools/demo --duration 40` archives the fake
origin's two variants on node A and serves them while it runs, node B heals itself from
A (byte-identical copies), then the demo stops everything."""
import datetime
import json
import os
import re
import subprocess
import time

from harness import get, run_tap, wait_for

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_demo_archives_and_serves_both_variants():
    proc = subprocess.Popen([os.path.join(ROOT, "tools", "demo"), "--duration", "40", "--port", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = b""
    url = url_b = None
    deadline = time.monotonic() + 120
    while (url is None or url_b is None) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, f"demo ended early:\n{output.decode(errors='replace')}"
        output += line
        match = re.search(rb"metrics:\s+curl (http://127\.0\.0\.1:\d+)/metrics", line)
        if match:
            url = match.group(1).decode()
        match = re.search(rb"B:\s+curl (http://127\.0\.0\.1:\d+)/metrics", line)
        if match:
            url_b = match.group(1).decode()
    assert url and url_b, output

    def segments(variant):
        response = get(f"{url}/playlist/demo/{variant}.m3u8")
        return response.text.count("#EXTINF") if response.status == 200 else 0

    wait_for(lambda: segments("source") >= 5 and segments("160p") >= 5, 30, "five segments of each variant")
    # While the demo runs, its wubd serves what it archived, for both variants.
    variants = json.loads(get(url + "/files/demo").text)
    assert sorted(variants) == ["160p", "source"], variants
    for variant in variants:
        playlist = get(f"{url}/playlist/demo/{variant}.m3u8").text
        assert playlist.count("#EXTINF") >= 5, playlist
        segment = re.search(r"^/segments/\S+|^\S+\.ts$", playlist, re.M).group(0)
        response = get(url + segment if segment.startswith("/") else f"{url}/playlist/demo/{segment}")
        assert response.status == 200 and response.body[:1] == b"\x47", response  # MPEG-TS sync byte
    # The origin loops 10 encoded segments; its timestamps must run on across the loop
    # as a real encoder's do, or players (hls.js) stall where they jump back. Read 24 s
    # of the archive through wubd's playlist, across the loop point, packet by packet.
    wait_for(lambda: segments("source") >= 13, 30, "26 s of the source variant")
    playlist = get(f"{url}/playlist/demo/source.m3u8").text
    first = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist).group(1)
    start = datetime.datetime.fromisoformat(first.replace("Z", "+00:00"))
    end = start + datetime.timedelta(seconds=24)
    closed = f"{url}/playlist/demo/source.m3u8?start={first}&end={end.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z"
    assert "#EXT-X-ENDLIST" in get(closed).text, get(closed).text
    packets = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=stream_index,dts", "-of", "csv=p=0",
                              closed], capture_output=True, text=True, timeout=60, check=True).stdout
    last = {}
    for line in filter(None, (l.strip().rstrip(",") for l in packets.splitlines())):
        stream, dts = line.split(",")[:2]
        if dts == "N/A":
            continue
        dts = int(dts)
        if stream in last:
            assert 0 < dts - last[stream] < 90_000, f"stream {stream}: dts {last[stream]} then {dts}"
        last[stream] = dts
    assert len(last) == 2 and max(last.values()) > 20 * 90_000, last  # video and audio, over 20 s in
    # B heals itself from A: what A archived before B started is on B too, the same bytes.
    def b_segments():
        response = get(f"{url_b}/playlist/demo/source.m3u8")
        return re.findall(r"^/segments/\S+", response.text, re.M) if response.status == 200 else []
    wait_for(lambda: len(b_segments()) >= 8, 40, "B to hold eight source segments")
    for segment in b_segments()[:8]:
        from_a, from_b = get(url + segment), get(url_b + segment)
        assert from_a.status == 200 and from_a.body == from_b.body, segment
    # What readline() buffered is in proc.stdout, not in the pipe communicate() reads.
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    output += rest
    assert proc.returncode == 0, output.decode(errors="replace")
    assert re.search(rb"console:\s+socat - UNIX-CONNECT:/tmp/wubd-demo-\w+/console.sock", output), output
    last = output.decode(errors="replace").replace("\r", "\n").strip().splitlines()[-1]
    node_a, node_b = last.split(" | ")
    counts = dict(re.findall(r"(source|160p): (\d+)", node_a))
    assert set(counts) == {"source", "160p"} and all(int(n) >= 15 for n in counts.values()), last
    counts_b = dict(re.findall(r"(source|160p): (\d+)", node_b))
    assert set(counts_b) == {"source", "160p"} and all(int(n) >= 8 for n in counts_b.values()), last
    # Both children are gone, and so is the demo's archive (other demos may be running).
    demo_dir = re.search(rb"archives it into (/tmp/wubd-demo-\w+)/archive", output).group(1).decode()
    leftovers = subprocess.run(["pgrep", "-f", demo_dir], capture_output=True, text=True).stdout
    assert not leftovers.strip(), leftovers
    assert not os.path.exists(demo_dir), demo_dir


if __name__ == "__main__":
    run_tap([test_demo_archives_and_serves_both_variants])
