// Drives wubd's editor page (/ui/) in Debian's chromium as an editor would, and
// reports what happened as one JSON object; the integration test judges it.
//   node ui_check.mjs edit BASE_URL STREAM VARIANT START END ARTIFACT_DIR
//     opens the page on [START, END), waits for the player, sets a range with the
//     keyboard, cuts it (smart) and saves the download, seeks in an MP4 clip
//   node ui_check.mjs live BASE_URL STREAM VARIANT SECONDS ARTIFACT_DIR
//     opens the page on the newest hour, live, and samples the timeline's coverage
//     for SECONDS while segments arrive
import { chromium } from "playwright-core";
import path from "node:path";

const [mode, base, stream, variant, ...rest] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"],
});
const report = { consoleErrors: [], pageErrors: [], failedRequests: [] };
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") report.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => report.pageErrors.push(String(e)));
  page.on("requestfailed", (r) => report.failedRequests.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
  const opened = Date.now();

  if (mode === "edit") {
    const [start, end, artifacts] = rest;
    await page.goto(`${base}/ui/?stream=${stream}&variant=${variant}&start=${start}&end=${end}`);
    // The player plays: `playing`, then currentTime moving on.
    await page.waitForFunction(() => {
      const v = document.getElementById("player");
      return v && v.readyState >= 3 && !v.paused && v.currentTime > 0;
    }, null, { timeout: 30000 });
    report.firstFrameMs = Date.now() - opened;
    const t0 = await page.evaluate(() => document.getElementById("player").currentTime);
    await page.waitForTimeout(1500);
    report.advanced = (await page.evaluate(() => document.getElementById("player").currentTime)) - t0;
    report.holes = await page.$$eval("#timeline .hole", (els) => els.map((e) => [e.dataset.start, e.dataset.end]));
    report.partials = await page.$$eval("#timeline .partial", (els) => els.map((e) => [e.dataset.start, e.dataset.end]));
    report.runs = await page.$$eval("#timeline .run", (els) => els.length);
    await page.waitForFunction(() => [...document.querySelectorAll("#filmstrip img")].every((i) => i.complete),
      null, { timeout: 20000 });
    report.filmstrip = await page.$$eval("#filmstrip img", (imgs) => imgs.map((i) => i.naturalWidth));
    report.waveformWidth = await page.$eval("#waveform", (i) => i.naturalWidth);
    report.clock = await page.$eval("#clock", (e) => e.textContent);
    await page.screenshot({ path: path.join(artifacts, "ui-editor.png") });

    // In and out with the keyboard: a jump to the view's first tenth, in; on 10 s with
    // `l`, back a frame with `,` and on one with `.`, out.
    await page.click("h1");  // the page has the keys, not a field
    await page.keyboard.press("Digit1");
    await page.waitForTimeout(300);
    await page.keyboard.press("k");  // pause: the ends are where the picture is
    await page.waitForTimeout(300);
    await page.keyboard.press("BracketLeft");
    await page.keyboard.press("l");
    await page.waitForTimeout(300);
    await page.keyboard.press("Comma");
    await page.keyboard.press("Period");
    await page.waitForTimeout(300);
    await page.keyboard.press("BracketRight");
    report.cutUrl = await page.$eval("#cut-url", (e) => e.value);
    await page.screenshot({ path: path.join(artifacts, "ui-range-set.png") });
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), page.click("#cut")]);
    report.download = path.join(artifacts, "ui-cut.ts");
    await download.saveAs(report.download);

    // A clip a browser can seek: the MP4 of the same range, seeked to its middle.
    const mp4 = report.cutUrl.replace("/cut/", "/cut/").replace(/\.ts\?/, ".mp4?").replace(/&type=[a-z0-9]+/, "");
    report.seek = await page.evaluate(async (url) => {
      const video = document.createElement("video");
      video.muted = true;
      video.src = url;
      document.body.append(video);
      await new Promise((resolve, reject) => {
        video.onloadedmetadata = resolve;
        video.onerror = () => reject(new Error("the mp4 did not load"));
      });
      const duration = video.duration;
      video.currentTime = duration / 2;
      await new Promise((resolve) => { video.onseeked = resolve; });
      return { duration, currentTime: video.currentTime, seekable: video.seekable.length ? video.seekable.end(0) : 0 };
    }, mp4);
  } else if (mode === "live") {
    const [seconds, artifacts] = rest;
    await page.goto(`${base}/ui/?stream=${stream}&variant=${variant}`);
    await page.waitForSelector("#timeline .run", { timeout: 20000 });
    report.coveredTo = [];
    const until = Date.now() + Number(seconds) * 1000;
    while (Date.now() < until) {
      report.coveredTo.push(await page.$$eval("#timeline .run", (els) => els.map((e) => e.dataset.end).sort().pop()));
      await page.waitForTimeout(1000);
    }
    report.playing = await page.evaluate(() => !document.getElementById("player").paused);
    await page.screenshot({ path: path.join(artifacts, "ui-live.png") });
  }
} catch (error) {
  report.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
