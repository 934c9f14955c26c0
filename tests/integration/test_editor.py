#!/usr/bin/env python3
"""The routes wubloader's browser editor calls (README, "The editor's routes"), through
the real binary on fixture archives: /frame is the exact frame ffmpeg decodes at that
instant, /thumbnail puts the template's pixels and the cropped frame where they
belong, /waveform shows silence and sound where they are, /S/chat.json merges
overlapping batches as wubloader does, and every bad parameter is a clear 400."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from fixtures import (COUNTER_BITS, SEGMENT_SECONDS, frame_numbers, make_counter_segments, segment_hash,
                      write_segment)
from harness import Wubd, get, http, run_tap, wait_for

T0 = datetime.datetime(2026, 11, 21, 4, 0, 0, tzinfo=datetime.timezone.utc)
S = datetime.timedelta(seconds=SEGMENT_SECONDS)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pixels(image, pix_fmt="rgba"):
    """(width, height, raw pixels) of a PNG or JPEG, decoded by ffmpeg."""
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json", "-"],
        input=image, capture_output=True, check=True).stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
                         input=image, capture_output=True, check=True).stdout
    return probe["width"], probe["height"], raw


def counter_number(gray, width, height):
    """The frame number a counter frame shows: 12 bars of 8 rows, white for a set bit."""
    number = 0
    for bit in range(COUNTER_BITS):
        row = bit * 8 + 4
        if gray[row * width + width // 2] >= 128:
            number |= 1 << bit
    return number


def bar_levels(path):
    """Per frame of a counter clip (presentation order), the grey level of each bar."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-vf", f"format=gray,scale=1:{COUNTER_BITS}:flags=area", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    return [list(raw[i:i + COUNTER_BITS]) for i in range(0, len(raw) - COUNTER_BITS + 1, COUNTER_BITS)]


def post(url, body, content_type="image/png"):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def build_counter_archive():
    base = tempfile.mkdtemp(prefix="wubd-editor-")
    media = make_counter_segments(6)
    paths = []
    for i in range(6):
        if i == 3:
            continue  # a hole at 04:00:06 .. 04:00:08
        paths.append(write_segment(base, "db", "source", T0 + i * S, media[i]))
    return base, media, paths


BASE, MEDIA, PATHS = build_counter_archive()


def test_a_frame_is_the_one_ffmpeg_decodes_at_that_instant():
    with Wubd(base_dir=BASE) as w:
        # Frames are 1/30 s: on a frame's start, inside a frame, at a segment's first
        # and last frame (B-frames reorder them), across the hour's first segment.
        for seconds in (0, 0.02, 1.0, 1.51, 1.99, 2.0, 2.5, 4.0333, 5.99, 8.0, 11.98):
            at = T0 + datetime.timedelta(seconds=seconds)
            r = get(f"{w.url}/frame/db/source.png?timestamp={iso(at)}")
            assert r.status == 200 and r.headers["content-type"] == "image/png", (seconds, r)
            width, height, gray = pixels(r.body, "gray")
            expected = int(seconds * 30 + 1e-6)  # the frame shown then: the last one at or before it
            assert counter_number(gray, width, height) == expected, (seconds, counter_number(gray, width, height))
            # Pixel for pixel what ffmpeg decodes for that frame of that segment.
            index = int(seconds // SEGMENT_SECONDS)
            in_segment = expected - index * SEGMENT_SECONDS * 30
            ours = pixels(r.body, "rgb24")[2]
            theirs = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-vf", f"select=eq(n\\,{in_segment})", "-fps_mode", "passthrough",
                                     "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                                    input=MEDIA[index], capture_output=True, check=True).stdout
            assert len(ours) == len(theirs), (len(ours), len(theirs))
            assert max(abs(a - b) for a, b in zip(ours, theirs)) <= 3, seconds
        jpeg = get(f"{w.url}/frame/db/source.jpg?timestamp={iso(T0 + 3 * S / 2)}")
        assert jpeg.status == 200 and jpeg.headers["content-type"] == "image/jpeg" and jpeg.body[:2] == b"\xff\xd8"
        width, height, gray = pixels(jpeg.body, "gray")
        assert counter_number(gray, width, height) == 90  # 3 s in


def test_frames_refuse_what_they_cannot_show():
    with Wubd(base_dir=BASE) as w:
        for query, status, words in (
            ("", 400, "timestamp is required"),
            ("?timestamp=yesterday", 400, "bad timestamp"),
            (f"?timestamp={iso(T0 + 3 * S + datetime.timedelta(seconds=0.05))}", 406, "hole"),
            (f"?timestamp={iso(T0 + datetime.timedelta(hours=2))}", 406, "no content available"),
        ):
            r = get(f"{w.url}/frame/db/source.png{query}")
            assert r.status == status and words in r.text, (query, r)
        assert get(f"{w.url}/frame/db/nope.png?timestamp={iso(T0)}").status == 404
        assert get(f"{w.url}/frame/db/source.gif?timestamp={iso(T0)}").status == 404
        r = http("POST", f"{w.url}/frame/db/source.png?timestamp={iso(T0)}")
        assert r.status == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS", r


def make_template(width, height, window):
    """A template PNG: opaque red, with a fully transparent window, and a half-transparent
    blue band along its bottom 10 rows (over the window too)."""
    left, top, right, bottom = window
    expression = (f"if(gte(Y\\,{height - 10})\\,128\\,"
                  f"if(between(X\\,{left}\\,{right - 1})*between(Y\\,{top}\\,{bottom - 1})\\,0\\,255))")
    red = f"if(gte(Y\\,{height - 10})\\,0\\,255)"
    blue = f"if(gte(Y\\,{height - 10})\\,255\\,0)"
    return subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=black:s={width}x{height}:d=1",
                           "-vf", f"format=rgba,geq=r='{red}':g=0:b='{blue}':a='{expression}'",
                           "-frames:v", "1", "-f", "image2", "-c:v", "png", "-"],
                          capture_output=True, check=True).stdout


def test_a_thumbnail_lays_the_template_over_the_cropped_frame():
    template = make_template(160, 120, (40, 20, 104, 116))
    at = iso(T0 + datetime.timedelta(seconds=1))  # frame 30: bits 1, 2, 3 and 4 set
    templates = tempfile.mkdtemp(prefix="wubd-templates-")
    with open(os.path.join(templates, "banner.png"), "wb") as f:
        f.write(template)
    with open(os.path.join(templates, "banner.json"), "w") as f:
        json.dump({"crop": [0, 0, 64, 96], "location": [40, 20, 104, 116]}, f)
    with Wubd("--thumbnail-templates", templates, base_dir=BASE) as w:
        posted = post(f"{w.url}/thumbnail/db/source.png?timestamp={at}&crop=0,0,64,96&location=40,20,104,116",
                      template)
        named = get(f"{w.url}/thumbnail/db/source.png?timestamp={at}&template=banner")
        assert posted[0] == 200 and named.status == 200, (posted[1][:200], named)
        assert posted[1] == named.body  # the same picture either way
        width, height, rgba = pixels(named.body)
        assert (width, height) == (160, 120)

        def pixel(x, y):
            return tuple(rgba[(y * width + x) * 4:(y * width + x) * 4 + 4])

        assert pixel(5, 5) == (255, 0, 0, 255)  # the template's opaque red
        # The window shows the frame (cropped whole, scaled 1:1): bar 1 (rows 8-15) white,
        # bar 0 (rows 0-7) black; frame row y is at 20 + y.
        assert pixel(70, 20 + 12)[:3] >= (230, 230, 230) and pixel(70, 20 + 12)[3] == 255, pixel(70, 32)
        assert pixel(70, 20 + 3)[:3] <= (25, 25, 25), pixel(70, 23)
        # The half-transparent blue band: over the frame (row 92 of it, a black bar) half
        # blue and opaque; beside the window, over nothing, blue and half transparent.
        band = pixel(70, 112)
        assert band[0] <= 16 and 120 <= band[2] <= 140 and band[3] == 255, band
        assert pixel(5, 112)[2] == 255 and 120 <= pixel(5, 112)[3] <= 136, pixel(5, 112)
        # A location of another size scales the crop into it.
        scaled = get(f"{w.url}/thumbnail/db/source.png?timestamp={at}&template=banner&location=40,20,72,68")
        assert scaled.status == 200
        for query, status, words in (
            (f"timestamp={at}&template=nope", 404, "Template nope not found"),
            (f"timestamp={at}&template=banner&crop=1,2,3", 400, "Bad crop"),
            (f"timestamp={at}&template=banner&location=10,10,5,5", 400, "right must be greater"),
            (f"timestamp={at}&template=..%2Fetc", 400, "template"),
            (f"template=banner", 400, "timestamp is required"),
            (f"timestamp={at}", 400, "template is required"),
        ):
            r = get(f"{w.url}/thumbnail/db/source.png?{query}")
            assert r.status == status and words in r.text, (query, r)
        status, body = post(f"{w.url}/thumbnail/db/source.png?timestamp={at}&crop=0,0,64,96&location=0,0,64,96",
                            b"GIF89a not a png")
        assert status == 400 and b"not a PNG" in body, body
        status, body = post(f"{w.url}/thumbnail/db/source.png?timestamp={at}&location=0,0,64,96", template)
        assert status == 400 and b"crop is required" in body, body
    with Wubd(base_dir=BASE) as w:
        r = get(f"{w.url}/thumbnail/db/source.png?timestamp={at}&template=banner")
        assert r.status == 501 and "--thumbnail-templates" in r.text, r
    shutil.rmtree(templates)


def make_silent_then_loud(count):
    """`count` 2 s segments: silence for the first half, a loud 440 Hz tone after."""
    out = tempfile.mkdtemp(prefix="wubd-media-")
    seconds = count * SEGMENT_SECONDS
    half = seconds / 2
    subprocess.run([
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x90:rate=30",
        "-f", "lavfi", "-i", f"aevalsrc='if(lt(t\\,{half})\\,0\\,0.9*sin(2*PI*440*t))':s=48000:d={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-c:a", "aac",
        "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-segment_format", "mpegts",
        os.path.join(out, "seg%04d.ts")], check=True)
    segments = [open(os.path.join(out, f"seg{i:04d}.ts"), "rb").read() for i in range(count)]
    shutil.rmtree(out)
    return segments


def column_heights(png):
    width, height, rgba = pixels(png)
    return [sum(1 for y in range(height) if rgba[(y * width + x) * 4 + 3] > 0) for x in range(width)]


def test_the_waveform_shows_silence_then_sound():
    base = tempfile.mkdtemp(prefix="wubd-wave-")
    for i, data in enumerate(make_silent_then_loud(8)):
        write_segment(base, "db", "source", T0 + i * S, data)
    with Wubd("--max-full-cuts", "1", base_dir=base) as w:
        url = f"{w.url}/waveform/db/source.png?start={iso(T0)}&end={iso(T0 + 8 * S)}&size=400x64"
        r = get(url)
        assert r.status == 200 and r.headers["content-type"] == "image/png", r
        heights = column_heights(r.body)
        assert len(heights) == 400
        quiet, loud = heights[10:190], heights[210:390]
        assert max(quiet) <= 2, quiet  # a line at the centre
        assert min(loud) >= 50, loud  # sqrt(0.9) of 64 rows, give or take the codec
        assert get(url).body == r.body  # cached: the same picture
        assert column_heights(get(f"{url.replace('400x64', '1024x64')}").body).__len__() == 1024
        default = get(f"{w.url}/waveform/db/source.png?start={iso(T0)}&end={iso(T0 + 8 * S)}")
        assert pixels(default.body)[:2] == (1024, 64)  # wubloader's default size
        for query, status, words in (
            (f"end={iso(T0 + S)}", 400, "start is required"),
            (f"start={iso(T0 + S)}&end={iso(T0)}", 400, "End must be after start"),
            (f"start={iso(T0)}&end={iso(T0 + datetime.timedelta(hours=7))}", 400, "may not be longer than 6 hours"),
            (f"start={iso(T0)}&end={iso(T0 + S)}&size=0x10", 400, "between 1x1 and 4096x4096"),
            (f"start={iso(T0)}&end={iso(T0 + S)}&size=5000x10", 400, "between 1x1 and 4096x4096"),
            (f"start={iso(T0)}&end={iso(T0 + S)}&size=wide", 400, "Invalid size"),
            (f"start={iso(T0 + datetime.timedelta(hours=3))}&end={iso(T0 + datetime.timedelta(hours=4))}", 406,
             "no content available"),
        ):
            r = get(f"{w.url}/waveform/db/source.png?{query}")
            assert r.status == status and words in r.text, (query, r)
        # It shares --max-full-cuts with the cuts: a cut a slow client holds fills it.
        client = socket.create_connection(("127.0.0.1", w.port))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.sendall(f"GET /cut/db/source.ts?type=mpegts&start={iso(T0)}&end={iso(T0 + 8 * S)} HTTP/1.1\r\n"
                       f"Host: x\r\n\r\n".encode())
        assert client.recv(12).startswith(b"HTTP/1.1 200")
        busy = get(url.replace("400x64", "401x64"))
        assert busy.status == 503 and busy.headers.get("retry-after"), busy
        client.close()
        wait_for(lambda: get(url.replace("400x64", "401x64")).status == 200, 20, "the slot back")
    shutil.rmtree(base)


def write_batch(base, stream, start, messages):
    """A chat batch as wubloader's archiver writes it: sorted keys, one per line."""
    text = "\n".join(json.dumps(m, separators=(",", ":"), sort_keys=True) for m in messages)
    data = text.encode()
    hour = start.strftime("%Y-%m-%dT%H")
    directory = os.path.join(base, stream, "chat", hour)
    os.makedirs(directory, exist_ok=True)
    name = f"{start.strftime('%M:%S')}-{segment_hash(data)}.json"
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def test_chat_merges_batches_as_wubloader_does():
    base = tempfile.mkdtemp(prefix="wubd-chat-")
    t = T0.timestamp()
    minute = datetime.timedelta(minutes=1)

    def msg(time_, range_, command, receivers, **extra):
        m = {"command": command, "time": time_, "time_range": range_, "receivers": receivers, "params": ["#db"]}
        m.update(extra)
        return m

    # Two nodes archived the same minute. A PRIVMSG with an id each saw at its own
    # time; a JOIN (no id) each saw within a range, overlapping; one PART only node b saw.
    a = [msg(t + 10.5, 0, "PRIVMSG", {"a": t + 10.5}, tags={"id": "m1"}, text="hello"),
         msg(t + 20, 5, "JOIN", {"a": t + 25}, sender="fred")]
    b = [msg(t + 10.5, 0, "PRIVMSG", {"b": t + 10.6}, tags={"id": "m1"}, text="hello"),
         msg(t + 22, 6, "JOIN", {"b": t + 28}, sender="fred"),
         msg(t + 30, 0, "PART", {"b": t + 30}, sender="fred")]
    write_batch(base, "db", T0, a)
    write_batch(base, "db", T0 + datetime.timedelta(seconds=1), b)  # another node's, a second later
    # A later minute, and one long before (outside the padding: never read).
    write_batch(base, "db", T0 + minute, [msg(t + 70, 0, "PRIVMSG", {"a": t + 70}, tags={"id": "m2"}, text="bye")])
    write_batch(base, "db", T0 - 10 * minute, [msg(t - 600, 0, "PRIVMSG", {"a": t - 600}, tags={"id": "m0"})])
    os.makedirs(os.path.join(base, "db", "source"))
    with Wubd(base_dir=base) as w:
        r = get(f"{w.url}/db/chat.json?start={iso(T0)}&end={iso(T0 + 2 * minute)}")
        assert r.status == 200 and r.headers["content-type"] == "application/json", r
        got = json.loads(r.body)
        assert [(m["command"], m["time"], m["time_range"]) for m in got] == [
            ("PRIVMSG", t + 10.5, 0), ("JOIN", t + 22, 3), ("PART", t + 30, 0), ("PRIVMSG", t + 70, 0)], got
        assert got[0]["receivers"] == {"a": t + 10.5, "b": t + 10.6} and got[0]["text"] == "hello"
        assert got[1]["receivers"] == {"a": t + 25, "b": t + 28} and got[1]["sender"] == "fred"
        # Messages whose range reaches into the window are in it; those after its end are not.
        part = get(f"{w.url}/db/chat.json?start={iso(T0 + datetime.timedelta(seconds=24))}"
                   f"&end={iso(T0 + datetime.timedelta(seconds=30))}")
        assert [m["command"] for m in json.loads(part.body)] == ["JOIN"], part.text
        for query, words in ((f"end={iso(T0)}", "start is required"),
                             (f"start={iso(T0 + minute)}&end={iso(T0)}", "End must be after start"),
                             (f"start={iso(T0)}&end={iso(T0 + 121 * minute)}", "Cannot request more than 2h of chat")):
            r = get(f"{w.url}/db/chat.json?{query}")
            assert r.status == 400 and words in r.text, (query, r)
        assert json.loads(get(f"{w.url}/other/chat.json?start={iso(T0)}&end={iso(T0 + minute)}").body) == []
    shutil.rmtree(base)


def test_a_cut_with_a_fade_and_a_wipe_between_three_ranges():
    """Every cut type that encodes honours transitions: the clip decodes without an
    error, lasts the ranges less the transitions (within a frame), shows each range's
    own frames outside the transitions and a blend inside them."""
    base = tempfile.mkdtemp(prefix="wubd-transitions-")
    media = make_counter_segments(20)
    for i, data in enumerate(media):
        write_segment(base, "db", "source", T0 + i * S, data)

    def at(seconds):
        return T0 + datetime.timedelta(seconds=seconds)

    ranges = [(1.5, 9.2), (12.1, 20.0), (24.3, 33.7)]
    fade, wipe = 1.0, 0.5
    query = "&".join(f"range={iso(at(a))},{iso(at(b))}" for a, b in ranges)
    query += f"&transition=fade,{fade}&transition=wipeleft,{wipe}"
    seconds = sum(b - a for a, b in ranges) - fade - wipe
    with Wubd(base_dir=base) as w:
        for kind in ("fast", "smart", "mpegts", "mp4", "webm"):
            r = get(f"{w.url}/cut/db/source.ts?type={kind}&{query}")
            assert r.status == 200, (kind, r)
            out = tempfile.mktemp(suffix="." + ("mp4" if kind == "mp4" else "webm" if kind == "webm" else "ts"))
            with open(out, "wb") as f:
                f.write(r.body)
            errors = subprocess.run(["ffmpeg", "-v", "error", "-i", out, "-f", "null", "-"],
                                    capture_output=True, text=True).stderr
            assert errors == "", (kind, errors)
            numbers = frame_numbers(out)
            assert abs(len(numbers) - seconds * 30) <= 1, (kind, len(numbers), seconds * 30)
            # Away from the joins each range shows its own frames: the source's frame
            # number at that moment of the range.
            first_join = ranges[0][1] - ranges[0][0] - fade  # where the fade begins in the clip
            second_join = first_join + (ranges[1][1] - ranges[1][0]) - wipe
            for clip_s, source_s in ((1.0, ranges[0][0] + 1.0),
                                     (first_join + fade + 2.0, ranges[1][0] + fade + 2.0),
                                     (second_join + wipe + 3.0, ranges[2][0] + wipe + 3.0)):
                shown = numbers[int(clip_s * 30)]
                assert abs(shown - source_s * 30) <= 1, (kind, clip_s, shown, source_s * 30)
            # Halfway through the fade the picture is both ranges' at once: the bars
            # where their frame numbers differ are grey, neither black nor white.
            levels = bar_levels(out)
            middle = levels[round((first_join + fade / 2) * 30)]
            assert any(70 <= level <= 185 for level in middle), (kind, middle)
            assert all(level < 40 or level > 215 for level in levels[30]), (kind, levels[30])
            os.unlink(out)
        # Without a type the transitions are made (wubloader's default type, fast).
        untyped = get(f"{w.url}/cut/db/source.ts?{query}")
        assert untyped.status == 200, untyped
        out = tempfile.mktemp(suffix=".ts")
        with open(out, "wb") as f:
            f.write(untyped.body)
        assert abs(len(frame_numbers(out)) - seconds * 30) <= 1
        os.unlink(out)
        # A rough cut is source footage: it ignores transitions, as wubloader's does.
        rough = get(f"{w.url}/cut/db/source.ts?type=rough&{query}")
        assert rough.status == 200 and len(rough.body) >= sum(len(m) for m in media[0:5]), len(rough.body)
        two = f"range={iso(at(1))},{iso(at(5))}&range={iso(at(8))},{iso(at(12))}"
        for query, status, words in (
            (f"{two}&transition=fade,1&transition=fade,1", 400, "Too many transitions"),
            (f"{two}&transition=sparkle,1", 400, "Unknown transition \"sparkle\"; known: fade, "),
            (f"{two}&transition=coverleft,1", 400, "needs ffmpeg 7"),
            (f"{two}&transition=fade", 400, "expected TYPE,DURATION"),
            (f"{two}&transition=fade,-1", 400, "Bad transition duration"),
            (f"{two}&transition=fade,4", 400, "not longer than its transitions"),
        ):
            r = get(f"{w.url}/cut/db/source.ts?type=fast&{query}")
            assert r.status == status and words in r.text, (query, r)
        # Fewer transitions than joins: the rest are hard cuts; "" is a hard cut too.
        three = "&".join(f"range={iso(at(a))},{iso(at(b))}" for a, b in ranges)
        hard = get(f"{w.url}/cut/db/source.ts?type=smart&{three}&transition=&transition=fade,1")
        assert hard.status == 200
        out = tempfile.mktemp(suffix=".ts")
        with open(out, "wb") as f:
            f.write(hard.body)
        assert abs(len(frame_numbers(out)) - (sum(b - a for a, b in ranges) - 1) * 30) <= 1
        os.unlink(out)
    # A hole where a transition needs video.
    os.unlink(os.path.join(base, write_segment(base, "db", "source", T0 + 6 * S, media[6])))
    with Wubd(base_dir=base) as w:
        q = f"range={iso(at(1))},{iso(at(16))}&range={iso(at(18))},{iso(at(22))}&transition=fade,1&allow_holes=true"
        ok = get(f"{w.url}/cut/db/source.ts?type=fast&{q}")
        assert ok.status == 200, ok  # the hole (12-14 s) is in the range, not where the fade is
        q = f"range={iso(at(1))},{iso(at(12.9))}&range={iso(at(14))},{iso(at(18))}&transition=fade,1&allow_holes=true"
        r = get(f"{w.url}/cut/db/source.ts?type=smart&{q}")
        assert r.status == 406 and "there is a hole there" in r.text, r
    shutil.rmtree(base)


def test_generate_videos_writes_one_mkv_per_contiguous_run():
    base = tempfile.mkdtemp(prefix="wubd-generate-")
    media = make_counter_segments(10)
    for i, data in enumerate(media):
        if i != 4:  # a hole at 8-10 s
            write_segment(base, "db", "source", T0 + i * S, data)
    url = None
    with Wubd(base_dir=base) as w:
        url = f"{w.url}/generate_videos/db/source"
        body = json.dumps({"hl": [iso(T0 + S), iso(T0 + 8 * S)], "intro": [iso(T0), iso(T0 + S)]}).encode()
        status, answer = post(url, body, "application/json")
        assert status == 200 and answer == b"", answer
        made = sorted(f for f in os.listdir(base) if f.endswith(".mkv"))
        assert made == ["db_source_hl_0.mkv", "db_source_hl_1.mkv", "db_source_intro_0.mkv"], os.listdir(base)
        # Whole segments, copied: 2-8 s (segments 1-3) and 10-16 s (segments 5-7).
        assert frame_numbers(os.path.join(base, "db_source_hl_0.mkv")) == list(range(60, 240))
        assert frame_numbers(os.path.join(base, "db_source_hl_1.mkv")) == list(range(300, 480))
        assert not [f for f in os.listdir(base) if f.endswith(".temp")], os.listdir(base)
        # A file already there is kept, not made again.
        before = os.stat(os.path.join(base, "db_source_intro_0.mkv")).st_mtime_ns
        assert post(url, json.dumps({"intro": [iso(T0), iso(T0 + S)]}).encode())[0] == 200
        assert os.stat(os.path.join(base, "db_source_intro_0.mkv")).st_mtime_ns == before
        assert wait_for(lambda: "already exists; skipped" in w.log(), 5, "the skip logged")
        for body, words in ((b'{"a/b": ["x", "y"]}', b"Name cannot contain /"),
                            (b'{".hidden": ["2026-11-21T04:00:00Z", "2026-11-21T04:00:02Z"]}', b"period"),
                            (b"[1, 2]", b"must be a JSON object"),
                            (b'{"x": ["2026-11-21T04:00:02Z", "2026-11-21T04:00:00Z"]}', b"End must be after start"),
                            (b'{"x": ["2026-11-21T04:00:00Z"]}', b"expected [start, end]"),
                            (b'{"x": ["2026-11-21T00:00:00Z", "2026-11-21T07:00:00Z"]}', b"--max-cut-hours")):
            status, answer = post(url, body, "application/json")
            assert status == 400 and words in answer, (body, answer)
        r = get(url)
        assert r.status == 405 and r.headers["allow"] == "POST, OPTIONS", r
    shutil.rmtree(base)


if __name__ == "__main__":
    run_tap([
        test_a_frame_is_the_one_ffmpeg_decodes_at_that_instant,
        test_frames_refuse_what_they_cannot_show,
        test_a_thumbnail_lays_the_template_over_the_cropped_frame,
        test_the_waveform_shows_silence_then_sound,
        test_chat_merges_batches_as_wubloader_does,
        test_a_cut_with_a_fade_and_a_wipe_between_three_ranges,
        test_generate_videos_writes_one_mkv_per_contiguous_run,
    ])
