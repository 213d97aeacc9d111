// The self-service page in headless Chromium on a phone-sized screen, with JavaScript off:
// sign in, see that lisd has no location for the user's softphone, declare an address, confirm
// it, see lisd's answer become that address, sign out. Driven by test_selfservice.c, which
// starts lisd, slapd and PostgreSQL and checks the database afterwards.
//
// usage: node selfservice.mjs BASE_URL USER PASSWORD OUT_DIR
// Prints one JSON object: {"ok": bool, "problems": [...], "screenshot": PATH}; exit 0 when ok.
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [base, user, password, outDir] = process.argv.slice(2);
const WIDTH = 390, HEIGHT = 844;          // a phone's CSS viewport
const DEADLINE_MS = 30000;                // generous: waits end as soon as the page is there
const problems = [];

// A PNG as Chromium writes it (8-bit RGB or RGBA, not interlaced), decoded: {width, height,
// px(x, y) -> [r, g, b]}. Enough to look at what the screenshot shows.
function decodePng(buf) {
  let pos = 8, width = 0, height = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4); type = data[9];
      if (data[8] !== 8 || (type !== 2 && type !== 6) || data[12] !== 0)
        throw new Error(`PNG depth ${data[8]} type ${type} interlace ${data[12]}`);
    } else if (kind === 'IDAT') {
      idat.push(data);
    }
    pos += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3, stride = width * bpp, raw = inflateSync(Buffer.concat(idat));
  const img = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? img[y * stride + i - bpp] : 0;
      const b = y ? img[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y ? img[(y - 1) * stride + i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      img[y * stride + i] = (line[i] + pred) & 255;
    }
  }
  return { width, height, px: (x, y) => [...img.subarray(y * stride + x * bpp, y * stride + x * bpp + 3)] };
}

// Within box of the decoded screenshot: the spread of luminance (0..255). Text or a button
// drawn there gives a wide one; an empty or missing element a flat one.
function contrast(png, box) {
  let lo = 255, hi = 0;
  for (let y = Math.max(0, Math.floor(box.y)); y < Math.min(png.height, box.y + box.height); y++)
    for (let x = Math.max(0, Math.floor(box.x)); x < Math.min(png.width, box.x + box.width); x++) {
      const [r, g, b] = png.px(x, y), l = (299 * r + 587 * g + 114 * b) / 1000;
      lo = Math.min(lo, l); hi = Math.max(hi, l);
    }
  return hi - lo;
}

const browser = await chromium.launch({
  executablePath: process.env.LIS_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
let screenshot = null;
try {
  // The test certificate is self-signed for 127.0.0.1: trusted for this context only.
  const context = await browser.newContext({
    viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1,
    javaScriptEnabled: false, ignoreHTTPSErrors: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(DEADLINE_MS);
  // Any console error (a CSP violation of the inline stylesheet among them) is a failure.
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(`${base}/`);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#signin button[type=submit]')]);
  await page.waitForSelector('#who');

  // Before declaring: lisd's resolver has nothing for dave's softphone.
  const before = await page.textContent('#answer');
  if (!/^dave-soft: no location \(locationUnknown\): /.test(before || ''))
    problems.push(`answer before declaring: ${before}`);

  await page.fill('#label', 'home');
  const address = { HNO: '742', RD: 'Maple', STS: 'ST', A3: 'Springfield', A1: 'IL',
                    PC: '62704', country: 'US' };
  for (const [el, v] of Object.entries(address)) await page.fill(`#f-${el}`, v);
  await page.click('#add button[type=submit]');
  await page.waitForSelector('#saved li.location[data-label="home"]');
  await page.click('#saved li.location[data-label="home"] button[value=confirm]');
  await page.waitForSelector('#saved li.location[data-label="home"] .state-valid');

  // lisd learns of the declaration through PostgreSQL's change feed: reload the page until
  // its answer, the resolver's, shows it (a condition with a deadline, not a sleep).
  const want = /^dave-soft: 742 Maple ST, Springfield IL 62704 US \(method Manual, from declared\)/;
  let answer = '';
  for (const end = Date.now() + DEADLINE_MS; ;) {
    answer = (await page.textContent('#answer')) || '';
    if (want.test(answer) || Date.now() > end) break;
    await page.waitForTimeout(100);
    await page.reload();
  }
  if (!want.test(answer)) problems.push(`answer after confirming: ${answer}`);
  if (await page.locator('script').count()) problems.push('the page has a script element');
  // The key elements are inside the phone's width (no sideways scrolling).
  for (const sel of ['#who', '#now', '#saved', '#add', '#add button[type=submit]',
                     '#signout button']) {
    const box = await page.locator(sel).first().boundingBox();
    if (!box || box.width <= 0 || box.x < 0 || box.x + box.width > WIDTH + 0.5)
      problems.push(`${sel} is not inside the ${WIDTH} px viewport: ${JSON.stringify(box)}`);
  }
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth)
    .catch(() => null);
  if (scrollWidth !== null && scrollWidth > WIDTH) problems.push(`scrollWidth ${scrollWidth}`);
  screenshot = `${outDir}/selfservice.png`;
  await page.screenshot({ path: screenshot });
  // The screenshot of the whole page shows each key element: its box holds drawn text or
  // a control (a wide spread of luminance), not an empty patch.
  const full = decodePng(await page.screenshot({ fullPage: true }));
  for (const sel of ['#who', '#answer', '#saved li.location[data-label="home"]', '#add',
                     '#add button[type=submit]', '#signout button']) {
    const box = await page.locator(sel).first().boundingBox();
    const spread = box ? contrast(full, box) : 0;
    if (spread < 100) problems.push(`${sel} does not show in the screenshot (spread ${spread})`);
  }

  await page.click('#signout button');
  await page.waitForSelector('#signin');
} catch (e) {
  problems.push(`failed: ${e.message.split('\n')[0]}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: problems.length === 0, problems, screenshot }));
process.exit(problems.length === 0 ? 0 : 1);
