#!/usr/bin/env python3
"""The open-ended live playlist (/playlist/S/V.m3u8 without start or end) as players
follow it for days (README, "Live playlists"): a window of the newest
--max-playlist-hours that slides a segment at a time, every segment keeping its media
sequence number from reload to reload, EXT-X-MEDIA-SEQUENCE rising by the segments
that left its head and EXT-X-DISCONTINUITY-SEQUENCE by the DISCONTINUITY tags that
left with them, and no EXT-X-ENDLIST while the variant is growing. Checked reload by
reload across an hour boundary and holes, and followed by ffmpeg while it moves."""
import datetime
import os
import shutil
import subprocess
import tempfile
import threading
import time

from fixtures import frame_numbers, make_counter_segments, make_segments, segment_name
from harness import Wubd, get, run_tap, wait_for

S = datetime.timedelta(seconds=2)


def publish(base, start, data, stream="live", variant="source"):
    """Writes a segment as wubd and wubloader do: a hidden temp name, then a rename, so
    no reader ever sees it half written."""
    hour, name = segment_name(start, data=data)
    directory = os.path.join(base, stream, variant, hour)
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, "." + name + ".part")
    with open(temp, "wb") as f:
        f.write(data)
    os.rename(temp, os.path.join(directory, name))
    return f"{hour}/{name}".replace(":", "%3A")  # as a playlist's URL has it


class Reload:
    """One reload of a media playlist: its tags and its segments in order, each with the
    media sequence and discontinuity sequence numbers a player gives it (RFC 8216)."""

    def __init__(self, text):
        self.text = text
        self.media_sequence = 0
        self.discontinuity_sequence = 0
        self.endlist = "#EXT-X-ENDLIST" in text
        self.target = None
        self.segments = []  # (uri, media sequence number, discontinuity sequence number)
        tags_before = 0
        number = None
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                self.media_sequence = int(line.split(":")[1])
            elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
                self.discontinuity_sequence = int(line.split(":")[1])
            elif line.startswith("#EXT-X-TARGETDURATION:"):
                self.target = int(line.split(":")[1])
            elif line == "#EXT-X-DISCONTINUITY":
                tags_before += 1
            elif line and not line.startswith("#"):
                number = self.media_sequence if number is None else number + 1
                self.segments.append((line, number, self.discontinuity_sequence + tags_before))

    def uris(self):
        return [uri for uri, _, _ in self.segments]


def check_follows(before, after):
    """What a player needs of `after`, the reload following `before`."""
    assert after.segments, after.text
    assert not after.text.splitlines()[3:4] == ["#EXT-X-DISCONTINUITY"], "a leading DISCONTINUITY:\n" + after.text
    assert after.target == before.target, f"EXT-X-TARGETDURATION changed:\n{before.text}\n---\n{after.text}"
    numbers = {uri: (seq, disc) for uri, seq, disc in after.segments}
    for uri, seq, disc in before.segments:
        if uri in numbers:
            assert numbers[uri] == (seq, disc), f"{uri} was {(seq, disc)}, now {numbers[uri]}:\n{after.text}"
    left = 0
    for uri, _, _ in before.segments:
        if uri in numbers:
            break
        left += 1
    assert after.media_sequence == before.media_sequence + left, (before.media_sequence, left, after.text)
    kept = before.uris()[left:]
    assert after.uris()[:len(kept)] == kept, f"the window's past changed:\n{before.text}\n---\n{after.text}"
    if kept:
        first_kept = next(disc for uri, _, disc in before.segments if uri == kept[0])
        tags_left = first_kept - before.discontinuity_sequence
        assert after.discontinuity_sequence == before.discontinuity_sequence + tags_left, after.text


def test_the_window_slides_across_an_hour_and_holes_keeping_every_number():
    base = tempfile.mkdtemp(prefix="wubd-live-")
    media = make_segments(10)
    # Two minutes before an hour boundary, two hours ago: fixture times, so the test
    # runs the same at any minute of the hour.
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    t0 = hour - datetime.timedelta(hours=1, minutes=2)
    holes = {7, 8, 31, 60}  # never written: holes in the window, and the new hour's first segment...
    late = 46  # ...and one filled after the window showed it as a hole
    for i in range(12):
        if i not in holes:
            publish(base, t0 + i * S, media[i % 10])
    # A window of 36 s: 18 segments.
    with Wubd("--max-playlist-hours", "0.01", "--live-settle", "0", base_dir=base) as w:
        url = w.url + "/playlist/live/source.m3u8"
        before = Reload(get(url).text)
        assert before.media_sequence == 0 and "#EXT-X-DISCONTINUITY\n" in before.text, before.text
        assert not before.endlist, before.text  # open-ended, still growing
        reloads = 1
        dropped = 0
        for i in range(12, 90):  # to 04:00:58 past the boundary at second 120
            if i in holes or i == late:
                continue
            name = publish(base, t0 + i * S, media[i % 10])
            after = Reload(wait_for(lambda: (lambda t: name in t and t)(get(url).text), 10, f"segment {i} listed"))
            check_follows(before, after)
            assert not after.endlist, after.text
            assert len(after.segments) <= 19, after.text  # a segment at a time, never an hour
            dropped += after.media_sequence - before.media_sequence
            before = after
            reloads += 1
            if i == 50:
                publish(base, t0 + late * S, media[late % 10])  # a peer's copy, after the hole was shown
        assert reloads > 60 and dropped > 50, (reloads, dropped)
        # The window is now wholly in the new hour; the boundary's hole (31) left with
        # its DISCONTINUITY tag, counted in DISCONTINUITY-SEQUENCE.
        assert before.uris()[0].split("/")[-2] == (hour - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H"), \
            before.text
        assert before.discontinuity_sequence == 4, before.text  # 7-8, 31, 46 and 60 left
        late_name = segment_name(t0 + late * S, data=media[late % 10])[1].replace(":", "%3A")
        assert not any(late_name in uri for uri in before.uris()), before.text
        # A closed range over the same time has the late segment: only the live view holds the hole.
        start = (t0 + 40 * S).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = (t0 + 50 * S).strftime("%Y-%m-%dT%H:%M:%SZ")
        closed = get(f"{url}?start={start}&end={end}").text
        assert late_name in closed and "#EXT-X-MEDIA-SEQUENCE" not in closed, closed
    shutil.rmtree(base)


def test_a_complete_hour_is_not_the_end_of_a_growing_stream():
    """Complete to the end of its newest hour, the open-ended playlist still has no
    ENDLIST while segments are arriving (wubloader pads an open end by an hour for
    this); once nothing has arrived for minutes, a complete one may end."""
    base = tempfile.mkdtemp(prefix="wubd-live-")
    media = make_segments(10)
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    t0 = hour - datetime.timedelta(hours=3, seconds=20)  # 10 segments to the end of an hour
    for i in range(9):
        publish(base, t0 + i * S, media[i])
    with Wubd(base_dir=base) as w:
        url = w.url + "/playlist/live/source.m3u8"
        start = (t0 - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        # Written before wubd started, an hour ago: not growing, not complete.
        assert "#EXT-X-ENDLIST" not in get(url).text
        name = publish(base, t0 + 9 * S, media[9])  # the hour is complete now, and growing
        for query in ("", f"?start={start}"):
            text = wait_for(lambda: (lambda t: name in t and t)(get(url + query).text), 10, "the last segment")
            assert "#EXT-X-ENDLIST" not in text, (query, text)
    with Wubd(base_dir=base) as w:
        # A new process has seen nothing arrive, and the newest segment is hours old:
        # the hour is complete and nothing more is coming.
        text = get(w.url + "/playlist/live/source.m3u8").text
        assert text.rstrip().endswith("#EXT-X-ENDLIST"), text
    shutil.rmtree(base)


def test_ffmpeg_follows_the_window_while_it_moves():
    """ffmpeg's HLS reader matches reloads by media sequence number: it must read every
    frame once, in order, while the window's head moves on under it."""
    base = tempfile.mkdtemp(prefix="wubd-live-follow-")
    media = make_counter_segments(24)
    # Fixture times 10 s before an hour boundary: the window crosses it as ffmpeg reads
    # (where the playlist once went from a window of segments to one, numbered 0 again).
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = hour - datetime.timedelta(hours=1, seconds=10)
    for i in range(8):
        publish(base, start + i * S, media[i])
    out = tempfile.mktemp(suffix=".ts")
    # A window of 14.4 s (7 segments): the head moves by each segment added.
    with Wubd("--max-playlist-hours", "0.004", base_dir=base) as w:
        url = w.url + "/playlist/live/source.m3u8"
        first = Reload(get(url).text)
        ffmpeg = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-live_start_index", "0", "-i", url,
                                   "-c", "copy", "-t", "26", "-y", out])
        stop = threading.Event()

        def add_segments():
            for i in range(8, 24):
                if stop.wait(1.0):  # faster than real time: the window outruns ffmpeg's start
                    return
                publish(base, start + i * S, media[i])

        adder = threading.Thread(target=add_segments)
        adder.start()
        try:
            assert ffmpeg.wait(90) == 0
        finally:
            stop.set()
            adder.join()
            if ffmpeg.poll() is None:
                ffmpeg.kill()
        last = Reload(get(url).text)
        # ffmpeg began at the window's head, which has moved on past where it began.
        assert last.media_sequence >= first.media_sequence + 5, (first.text, last.text)
        assert first.uris()[0] not in last.uris(), (first.text, last.text)
    numbers = frame_numbers(out)
    os.unlink(out)
    # Every frame once, in order, from the first frame of the window's first segment
    # (-t cuts copied packets in decode order: the last B-frames may be cut away).
    assert numbers[:-4] == list(range(len(numbers) - 4)), numbers
    assert len(set(numbers)) == len(numbers) and max(numbers) < len(numbers) + 4, numbers[-8:]
    assert len(numbers) >= 26 * 30 - 60, len(numbers)  # 26 s read, give or take a segment
    shutil.rmtree(base)


if __name__ == "__main__":
    run_tap([
        test_the_window_slides_across_an_hour_and_holes_keeping_every_number,
        test_a_complete_hour_is_not_the_end_of_a_growing_stream,
        test_ffmpeg_follows_the_window_while_it_moves,
    ])
