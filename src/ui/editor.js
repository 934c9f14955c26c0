// wubd's editor page: find a moment by its picture and sound, play it, and take
// exactly that clip. Plain JavaScript over wubd's own routes: /files, /coverage,
// /playlist, /frame, /waveform and /cut. Times are wall-clock (UTC) milliseconds
// throughout; the player's media time is mapped to them through the playlist's
// PROGRAM-DATE-TIME, as hls.js reads it.
"use strict";

const $ = (id) => document.getElementById(id);
const HOUR = 3600 * 1000;

const state = {
  stream: "",
  variant: "",
  view: { start: 0, end: 0, live: false },  // what the timeline shows
  fps: 30,
  ranges: [],       // [{ in, out, transition }] in wall-clock ms; transition joins it to the next
  current: 0,       // the range the keys and buttons set
  transitions: [],  // the names /cut knows
  hls: null,
  refresher: null,
  coverage: null,  // of the view, as /coverage answered
};

const CUT_TYPES = [
  ["smart", "frame-exact, one clean stream; re-encodes only around each end: fast"],
  ["fast", "exact ends; re-encodes only the first and last segment: fastest exact cut"],
  ["mp4", "re-encoded MP4 a browser can seek in, made once then kept: slow"],
  ["mpegts", "re-encoded MPEG-TS, streamed as it is made: slow"],
  ["webm", "VP9 and Opus for browsers: slowest"],
  ["rough", "the segments as they are: instant, may run a segment past each end, no transitions"],
];

function iso(ms) {
  return new Date(ms).toISOString();
}

function parseTime(text) {
  if (!text.trim()) return null;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(text.trim()) ? text.trim() : text.trim() + "Z";
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new Error(`"${text}" is not a time (2026-11-21T04:05:06Z)`);
  return ms;
}

function status(text) {
  $("status").textContent = text;
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${(await response.text()).trim()}`);
  return response.json();
}

function path(kind, extension) {
  return `/${kind}/${encodeURIComponent(state.stream)}/${encodeURIComponent(state.variant)}.${extension}`;
}

// --- streams, variants, the view ------------------------------------------------------

async function pickStreams(params) {
  const streams = await getJson("/files");
  const select = $("stream");
  select.replaceChildren(...streams.map((s) => new Option(s, s)));
  if (params.get("stream") && streams.includes(params.get("stream"))) select.value = params.get("stream");
  state.stream = select.value;
  await pickVariants(params.get("variant"));
}

async function pickVariants(wanted) {
  const variants = (await getJson(`/files/${encodeURIComponent(state.stream)}`)).filter((v) => v !== "chat");
  const select = $("variant");
  select.replaceChildren(...variants.map((v) => new Option(v, v)));
  if (wanted && variants.includes(wanted)) select.value = wanted;
  else if (variants.includes("source")) select.value = "source";
  state.variant = select.value;
}

// The variant's frame rate, from the master playlist's FRAME-RATE: a frame's nudge.
async function readFrameRate() {
  const response = await fetch(`/playlist/${encodeURIComponent(state.stream)}.m3u8`);
  const text = await response.text();
  for (const line of text.split("\n")) {
    if (!line.startsWith("#EXT-X-STREAM-INF:") || !line.includes(`NAME="${state.variant}"`)) continue;
    const rate = /FRAME-RATE=([0-9.]+)/.exec(line);
    if (rate) state.fps = Number(rate[1]);
  }
}

async function show() {
  try {
    const from = parseTime($("from").value);
    const to = parseTime($("to").value);
    let query = "";
    if (from !== null) query = `?start=${iso(from)}&end=${iso(to !== null ? to : from + HOUR)}`;
    const coverage = await getJson(path("coverage", "json") + query);
    const end = Date.parse(coverage.end);
    // Without From: the newest hour, followed live. With it: the range asked for.
    state.view = from !== null ? { start: from, end: to !== null ? to : from + HOUR, live: false }
                               : { start: end - HOUR, end, live: to === null };
    await readFrameRate();
    await renderCoverage();
    renderLook();
    play(state.view.live ? null : state.view.start);
    clearInterval(state.refresher);
    if (state.view.live) state.refresher = setInterval(grow, 5000);
    status("");
  } catch (error) {
    status(String(error.message || error));
  }
}

// A live view grows with the stream: its end follows the newest coverage.
async function grow() {
  try {
    const coverage = await getJson(path("coverage", "json") + `?start=${iso(state.view.end - HOUR)}&end=${iso(Date.now())}`);
    const end = lastCovered(coverage) || state.view.end;
    const grew = end > state.view.end;
    if (grew) {
      state.view.end = end;
      state.view.start = end - HOUR;
    }
    await renderCoverage();
    if (grew && !state.coverage.runs.length) renderLook();
  } catch (error) {
    status(String(error.message || error));
  }
}

function lastCovered(coverage) {
  return coverage.runs.length ? Date.parse(coverage.runs[coverage.runs.length - 1].end) : null;
}

// --- the timeline, waveform and filmstrip ---------------------------------------------

function xOf(ms) {
  const { start, end } = state.view;
  return `${Math.max(0, Math.min(100, ((ms - start) / (end - start)) * 100))}%`;
}

function span(className, from, to, title) {
  const div = document.createElement("div");
  div.className = className;
  div.style.left = xOf(from);
  div.style.width = `calc(${xOf(to)} - ${xOf(from)})`;
  div.dataset.start = iso(from);
  div.dataset.end = iso(to);
  div.title = title;
  return div;
}

async function renderCoverage() {
  const { start, end } = state.view;
  const coverage = await getJson(path("coverage", "json") + `?start=${iso(start)}&end=${iso(end)}`);
  state.coverage = coverage;
  const timeline = $("timeline");
  timeline.replaceChildren($("playhead"));
  for (const run of coverage.runs) timeline.append(span("run", Date.parse(run.start), Date.parse(run.end), `${run.segments} segments`));
  for (const part of coverage.incomplete) {
    timeline.append(span("partial", Date.parse(part.start), Date.parse(part.end), `${part.type} only`));
  }
  for (const hole of coverage.holes) {
    timeline.append(span("hole", Date.parse(hole.start), Date.parse(hole.end), `no video: ${hole.seconds} s`));
  }
  state.ranges.forEach((range, i) => {
    if (range.in !== null && range.out !== null) timeline.append(span("range", range.in, range.out, `range ${i + 1}`));
  });
  const axis = $("axis");
  axis.replaceChildren();
  for (let i = 0; i <= 4; ++i) {
    const label = document.createElement("span");
    const at = start + ((end - start) * i) / 4;
    label.style.left = xOf(at);
    // The first and last labels stay inside the axis.
    label.style.transform = i === 0 ? "none" : i === 4 ? "translateX(-100%)" : "translateX(-50%)";
    label.textContent = iso(at).slice(11, 19);
    axis.append(label);
  }
}

// Instants spread evenly over the covered part of the view: where frames are.
function coveredInstants(count) {
  const runs = (state.coverage ? state.coverage.runs : []).map((r) => [Date.parse(r.start), Date.parse(r.end)]);
  const total = runs.reduce((sum, [a, b]) => sum + (b - a), 0);
  const instants = [];
  for (let i = 0; i < count && total > 0; ++i) {
    let offset = (total * (i + 0.5)) / count;
    for (const [a, b] of runs) {
      if (offset < b - a) {
        instants.push(a + offset);
        break;
      }
      offset -= b - a;
    }
  }
  return instants;
}

function renderLook() {
  const { start, end } = state.view;
  const covered = coveredInstants(8);
  const waveform = $("waveform");
  if (covered.length) {
    const width = Math.max(200, Math.min(2048, $("look").clientWidth || 800));
    waveform.src = path("waveform", "png") + `?start=${iso(start)}&end=${iso(end)}&size=${width}x48`;
    waveform.alt = `the audio from ${iso(start)} to ${iso(end)}`;
  } else {
    waveform.removeAttribute("src");  // nothing recorded in the view
  }
  const strip = $("filmstrip");
  strip.replaceChildren();
  for (const at of covered) {
    const img = new Image();
    img.alt = iso(at);
    img.title = `${iso(at)}: click to play from here`;
    img.src = path("frame", "jpg") + `?timestamp=${iso(at)}`;
    img.onclick = () => seekTo(at);
    strip.append(img);
  }
}

// --- the player -----------------------------------------------------------------------

// Plays the view from `from` (wall-clock ms), or the live window when `from` is null.
function play(from) {
  const video = $("player");
  if (state.hls) state.hls.destroy();
  const { start, end, live } = state.view;
  const url = live ? path("playlist", "m3u8") : path("playlist", "m3u8") + `?start=${iso(start)}&end=${iso(end)}`;
  const hls = new Hls();
  state.hls = hls;
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (data.fatal) status(`player: ${data.details}`);
  });
  hls.once(Hls.Events.LEVEL_LOADED, () => {
    if (from !== null) seekTo(from);
    video.play().catch(() => {});
  });
  hls.loadSource(url);
  hls.attachMedia(video);
}

function fragments() {
  const level = state.hls && state.hls.levels[Math.max(0, state.hls.currentLevel)];
  return (level && level.details && level.details.fragments) || [];
}

// Wall-clock ms of the player's position, from the fragment playing and its date.
function playingTime() {
  const t = $("player").currentTime;
  for (const frag of fragments()) {
    if (frag.programDateTime && t >= frag.start && t < frag.start + frag.duration) {
      return frag.programDateTime + (t - frag.start) * 1000;
    }
  }
  return state.hls && state.hls.playingDate ? state.hls.playingDate.getTime() : null;
}

function seekTo(ms) {
  for (const frag of fragments()) {
    if (frag.programDateTime && ms >= frag.programDateTime && ms < frag.programDateTime + frag.duration * 1000) {
      $("player").currentTime = frag.start + (ms - frag.programDateTime) / 1000;
      return true;
    }
  }
  // Outside what is loaded: show an hour around it instead.
  if (!state.view.live && (ms < state.view.start || ms >= state.view.end)) {
    state.view = { start: ms - HOUR / 2, end: ms + HOUR / 2, live: false };
    renderCoverage().then(renderLook);
    play(ms);
  }
  return false;
}

function seekBy(seconds) {
  const now = playingTime();
  if (now !== null) seekTo(now + seconds * 1000);
}

function tick() {
  const now = playingTime();
  $("clock").textContent = now === null ? "--" : iso(now).replace("T", " ");
  if (now !== null) $("playhead").style.left = xOf(now);
}

// --- ranges and transitions -----------------------------------------------------------

function addRange() {
  state.ranges.push({ in: null, out: null, transition: "" });
  state.current = state.ranges.length - 1;
  renderRanges();
}

function setEnd(which, ms) {
  if (ms === null) return;
  if (!state.ranges.length) addRange();
  const range = state.ranges[state.current];
  range[which] = Math.round(ms);
  renderRanges();
  renderCoverage();
}

function nudge(which, frames) {
  const range = state.ranges[state.current];
  if (!range || range[which] === null) return;
  range[which] += (frames * 1000) / state.fps;
  renderRanges();
  seekTo(range[which]);
}

function renderRanges() {
  const list = $("ranges");
  list.replaceChildren();
  state.ranges.forEach((range, i) => {
    const item = document.createElement("li");
    item.className = i === state.current ? "current" : "";
    item.onclick = () => { state.current = i; renderRanges(); };
    const ends = document.createElement("div");
    ends.className = "ends";
    ends.textContent = `${range.in === null ? "in?" : iso(range.in)} → ${range.out === null ? "out?" : iso(range.out)}`;
    item.append(ends);
    for (const [label, action] of [["set in", () => setEnd("in", playingTime())], ["◀", () => nudge("in", -1)],
      ["▶", () => nudge("in", 1)], ["set out", () => setEnd("out", playingTime())], ["◀", () => nudge("out", -1)],
      ["▶", () => nudge("out", 1)], ["remove", () => { state.ranges.splice(i, 1); state.current = 0; renderRanges(); }]]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.onclick = (event) => { event.stopPropagation(); state.current = i; action(); };
      item.append(button);
    }
    if (i < state.ranges.length - 1) {
      const select = document.createElement("select");
      select.title = "how this range joins the next";
      select.append(new Option("hard cut", ""));
      for (const name of state.transitions) select.append(new Option(`${name} (1 s)`, `${name},1`));
      select.value = range.transition;
      select.onchange = () => { range.transition = select.value; updateCutUrl(); };
      item.append(document.createElement("br"), "then ", select);
    }
    list.append(item);
  });
  updateCutUrl();
}

// --- the cut --------------------------------------------------------------------------

function cutUrl() {
  const complete = state.ranges.filter((r) => r.in !== null && r.out !== null && r.out > r.in);
  if (!complete.length) return "";
  const type = document.querySelector('input[name="type"]:checked').value;
  const params = complete.map((r) => `range=${iso(r.in)},${iso(r.out)}`);
  complete.slice(0, -1).forEach((r) => params.push(`transition=${encodeURIComponent(r.transition)}`));
  const base = type === "mp4" ? path("cut", "mp4") : path("cut", "ts");
  if (type !== "mp4") params.push(`type=${type}`);
  return `${location.origin}${base}?${params.join("&")}`;
}

function updateCutUrl() {
  $("cut-url").value = cutUrl();
}

function cut() {
  const url = cutUrl();
  if (!url) return status("set a range's in and out first ([ and ])");
  const link = document.createElement("a");
  link.href = `${url}&download=true`;
  link.download = "";
  document.body.append(link);
  link.click();
  link.remove();
}

// --- keys -----------------------------------------------------------------------------

function onKey(event) {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const video = $("player");
  const handled = {
    " ": () => (video.paused ? video.play() : video.pause()),
    k: () => (video.paused ? video.play() : video.pause()),
    j: () => seekBy(-10),
    l: () => seekBy(10),
    J: () => seekBy(-1),
    L: () => seekBy(1),
    ArrowLeft: () => seekBy(-5),
    ArrowRight: () => seekBy(5),
    ",": () => { video.pause(); seekBy(-1 / state.fps); },
    ".": () => { video.pause(); seekBy(1 / state.fps); },
    "[": () => setEnd("in", playingTime()),
    "]": () => setEnd("out", playingTime()),
  }[event.key];
  if (handled) {
    handled();
  } else if (/^[0-9]$/.test(event.key)) {
    const { start, end } = state.view;
    seekTo(start + ((end - start) * Number(event.key)) / 10);
  } else {
    return;
  }
  event.preventDefault();
}

// --- start ----------------------------------------------------------------------------

async function main() {
  const types = $("types");
  CUT_TYPES.forEach(([name, tradeOff], i) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="type" value="${name}"${i === 0 ? " checked" : ""}> <b>${name}</b> <small>${tradeOff}</small>`;
    label.querySelector("input").onchange = updateCutUrl;
    types.append(label);
  });
  $("show").onclick = show;
  $("stream").onchange = async () => { state.stream = $("stream").value; await pickVariants(); show(); };
  $("variant").onchange = () => { state.variant = $("variant").value; show(); };
  $("add-range").onclick = addRange;
  $("cut").onclick = cut;
  $("timeline").onclick = (event) => {
    const box = $("timeline").getBoundingClientRect();
    seekTo(state.view.start + ((event.clientX - box.left) / box.width) * (state.view.end - state.view.start));
  };
  $("player").addEventListener("timeupdate", tick);
  document.addEventListener("keydown", onKey);
  const params = new URLSearchParams(location.search);
  if (params.get("start")) $("from").value = params.get("start");
  if (params.get("end")) $("to").value = params.get("end");
  try {
    state.transitions = await getJson("/ui/transitions.json");
    await pickStreams(params);
    if (!state.stream) return status("no streams in this archive yet");
    addRange();
    await show();
  } catch (error) {
    status(String(error.message || error));
  }
}

main();
