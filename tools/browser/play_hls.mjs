// Plays an HLS playlist with hls.js in Debian's chromium (driven by playwright-core)
// for a while and reports what a viewer would have seen, as one JSON object:
//   node play_hls.mjs PAGE_URL PLAYLIST_URL SECONDS [SCREENSHOT.png]
// PAGE_URL is any page of the server (the playlist is then same-origin); hls.js is
// injected from node_modules, nothing is fetched from the internet.
//   { levels: [names], errors: [..], startGapSkips: [{from, to}], stalls: n,
//     samples: [{t, currentTime, paused}], playing: bool, mediaSequences: [..] }
// startGapSkips: hls.js jumping over the gap between the position it starts at (a
// fragment's start: its earliest sample, audio or video) and where audio and video
// are both buffered (a B-frame stream's first video frame comes a frame or two
// later), before the first frame plays. Whether hls.js or the browser does that jump
// is a race; when hls.js does, it says so with a non-fatal bufferSeekOverHole. Any
// other error, or any while playing, is in `errors`.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const [pageUrl, playlistUrl, secondsText, screenshot] = process.argv.slice(2);
if (!pageUrl || !playlistUrl || !secondsText) {
  console.error("usage: node play_hls.mjs PAGE_URL PLAYLIST_URL SECONDS [SCREENSHOT.png]");
  process.exit(2);
}
const hlsPath = path.join(path.dirname(require.resolve("hls.js/package.json")), "dist", "hls.min.js");

// As the machine's probe found: without the background-networking flags chromium
// tries to reach Google's hosts, which this closed network refuses.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  await page.goto(pageUrl);
  await page.addScriptTag({ path: hlsPath });
  const report = await page.evaluate(async ({ url, seconds }) => {
    const video = document.createElement("video");
    video.muted = true;
    video.width = 320;
    document.body.prepend(video);
    const hls = new Hls();
    const errors = [];
    const mediaSequences = [];
    let stalls = 0;
    let started = false;
    const startGapSkips = [];
    hls.on(Hls.Events.ERROR, (_, data) => {
      const message = data.reason || (data.error && data.error.message) || "";
      const skip = /seeking from ([0-9.]+) to ([0-9.]+)/.exec(message);
      if (data.details === Hls.ErrorDetails.BUFFER_SEEK_OVER_HOLE && !data.fatal && !started && skip) {
        startGapSkips.push({ from: Number(skip[1]), to: Number(skip[2]), padding: hls.config.skipBufferHolePadding });
        return;
      }
      errors.push(`${data.type}:${data.details}${data.fatal ? ":fatal" : ""} at ${video.currentTime.toFixed(3)}` +
                  `${started ? " playing" : " before playing"}: ${message}`);
    });
    hls.on(Hls.Events.LEVEL_LOADED, (_, data) => mediaSequences.push(data.details.startSN));
    video.addEventListener("playing", () => { started = true; });
    video.addEventListener("waiting", () => { if (started) stalls += 1; });
    hls.loadSource(url);
    hls.attachMedia(video);
    await new Promise((resolve, reject) => {
      hls.on(Hls.Events.MANIFEST_PARSED, resolve);
      setTimeout(() => reject(new Error("no manifest in 10 s: " + errors.join(", "))), 10000);
    });
    await video.play();
    const samples = [];
    const begin = performance.now();
    while (performance.now() - begin < seconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      samples.push({ t: (performance.now() - begin) / 1000, currentTime: video.currentTime, paused: video.paused });
    }
    return { levels: hls.levels.map((level) => level.name), errors, startGapSkips, stalls, samples, mediaSequences,
             playing: started, width: video.videoWidth, height: video.videoHeight };
  }, { url: playlistUrl, seconds: Number(secondsText) });
  report.consoleErrors = consoleErrors;
  if (screenshot) await page.screenshot({ path: screenshot });
  console.log(JSON.stringify(report));
} finally {
  await browser.close();
}
