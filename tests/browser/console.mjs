// Drives the web console in Debian's Chromium (headless) through the flows of issue #12.
// Started by crates/consentry/tests/console_browser.rs, which runs `consentry serve` on a
// temporary store, creates the operator with `consentry admin create` and passes:
//   BASE (http://127.0.0.1:port), OPERATOR, PASSWORD, MERCHANT_KEY (sender "Beta"'s API key),
//   OWN_MESSAGE (a message of "Beta"), FOREIGN_MESSAGE (a message of another sender),
//   COMPLAINT (a complaint about Beta's message), ADMIN (the admin key), CONSUMER (the
//   portal flow's phone, which received a message from "Gamma"),
//   SHOTS (directory for screenshots),
//   CHROMIUM (the browser binary).
// Each flow saves a screenshot; any failed check throws and the process exits 1.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const BASE = env('BASE'), OPERATOR = env('OPERATOR'), PASSWORD = env('PASSWORD');
const MERCHANT_KEY = env('MERCHANT_KEY'), OWN_MESSAGE = env('OWN_MESSAGE');
const FOREIGN_MESSAGE = env('FOREIGN_MESSAGE');
const SHOTS = env('SHOTS');
const ADMIN = env('ADMIN'), CONSUMER = env('CONSUMER'), COMPLAINT = env('COMPLAINT');
fs.mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const shot = async (page, name) => {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  console.log(`screenshot ${name}.png`);
};
// The top of a phone-sized page, for docs/CONSOLE.md (the full page is the flow's screenshot).
const phoneShot = (page, name) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), clip: { x: 0, y: 0, width: 375, height: 740 } });
const flows = [];
const flow = (name, f) => flows.push([name, f]);

async function signIn(page, name, password) {
  await page.goto(`${BASE}/console/signin`);
  await page.getByLabel(/Account|账号/).fill(name);
  await page.getByLabel(/Password|密码/).fill(password);
  return Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: /Sign in|登录/ }).click(),
  ]).then(([resp]) => resp);
}

// Everything an operator does, with JavaScript off: the console is plain forms.
flow('operator', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US', viewport: { width: 1100, height: 760 } });
  const page = await ctx.newPage();
  await signIn(page, OPERATOR, PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/console');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await shot(page, '01-dashboard');

  // Create a sender: its key is shown once.
  await page.getByRole('link', { name: 'Senders' }).click();
  await page.getByLabel('Name').fill('Alpha Tea 阿尔法茶叶');
  await page.getByLabel('Signature').fill('【阿尔法】');
  await page.getByRole('button', { name: 'Create' }).click();
  const firstKey = (await page.locator('[data-secret="API key"]').textContent()).trim();
  assert.match(firstKey, /^cs_live_[0-9a-f]{64}$/);
  await shot(page, '02-sender-created');
  await page.getByRole('link', { name: /Alpha Tea/ }).click();
  const senderUrl = page.url();
  const senderId = senderUrl.split('/').pop();

  // Rotate its key: a new one, shown once; the old one is refused by the API.
  await page.getByRole('button', { name: 'Rotate API key' }).click();
  const key = (await page.locator('[data-secret="New API key"]').textContent()).trim();
  assert.notEqual(key, firstKey);
  assert.equal((await fetch(`${BASE}/v1/messages`, { headers: { authorization: `Bearer ${firstKey}` } })).status, 401);
  await shot(page, '03-key-rotated');

  // The new key sends a message; the operator finds it by phone and opens its decision.
  const sent = await fetch(`${BASE}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '13800138001', text: '【阿尔法】双十一全场五折，回T退订', category: 'marketing' }),
  }).then((r) => r.json());
  assert.ok(sent.id, JSON.stringify(sent));
  await page.getByRole('link', { name: 'Messages', exact: true }).click();
  await page.getByLabel('Phone').fill('13800138001');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator(`a[href="/console/messages/${sent.id}"]`).click();
  await page.getByRole('heading', { name: 'Decision' }).waitFor();
  // The phone refused every shop's marketing before (the test recorded it): the reason says so.
  await page.getByText('opted_out').first().waitFor();
  await shot(page, '04-message-decision');

  // The consent timeline answers for the moment of the decision.
  await page.getByRole('link', { name: /13800138001/ }).click();
  await page.getByRole('heading', { name: /Was there consent/ }).waitFor();
  await shot(page, '05-consent-timeline');

  // Suspend with a reason, then lift.
  await page.goto(senderUrl);
  await page.getByLabel('Reason').fill('complaints under review');
  await page.getByRole('button', { name: 'Suspend' }).click();
  await page.locator('.tag.suspended').first().waitFor();
  await shot(page, '06-sender-suspended');
  await page.getByLabel('Reason').fill('reviewed: consent records in order');
  await page.getByRole('button', { name: 'Lift suspension' }).click();
  await page.locator('.tag.active').first().waitFor();
  assert.equal(await page.getByRole('cell', { name: 'complaints under review' }).count(), 1);

  // Audit: verify now.
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('button', { name: 'Verify now' }).click();
  await page.getByText('The audit chain is intact').waitFor();
  await shot(page, '07-audit-verified');

  // The language switch: the same page in Chinese.
  await page.getByRole('link', { name: '中文' }).click();
  await page.getByRole('link', { name: '商家', exact: true }).waitFor();
  await shot(page, '08-dashboard-zh');
  console.log(`sender ${senderId} created, rotated, suspended and lifted; message ${sent.id} found`);
  await ctx.close();
});

// The operator opens a complaint from the queue and downloads its evidence bundle; then the
// per-sender report with its chart and CSV export. JavaScript off.
flow('complaint', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US', acceptDownloads: true, viewport: { width: 1100, height: 760 } });
  const page = await ctx.newPage();
  await signIn(page, OPERATOR, PASSWORD);
  await page.getByRole('link', { name: 'Complaints', exact: true }).click();
  await page.getByLabel('Verdict').waitFor();
  await page.locator(`a[href="/console/complaints/${COMPLAINT}"]`).click();
  await page.getByRole('heading', { name: `Complaint #${COMPLAINT}` }).waitFor();
  await page.getByRole('heading', { name: 'Findings' }).waitFor();
  await shot(page, '14-complaint');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download evidence bundle' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `complaint-${COMPLAINT}-evidence.json`);
  const file = path.join(SHOTS, download.suggestedFilename());
  await download.saveAs(file);
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(bundle.format, 'consentry-evidence/2');
  assert.equal(String(bundle.complaint.id), COMPLAINT);
  assert.ok(bundle.audit.head.hash, 'the bundle names the audit head');

  await page.getByRole('link', { name: 'Sender reports' }).click();
  await page.locator('figure svg').first().waitFor();
  await page.getByRole('cell', { name: 'Beta', exact: true }).waitFor();
  await shot(page, '15-report');
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  const csvFile = path.join(SHOTS, 'senders-report.csv');
  await csv.saveAs(csvFile);
  const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
  assert.match(lines[0], /^sender_id,name,sent,/);
  assert.ok(lines.some((l) => l.includes(',Beta,')), lines.join('\n'));
  await ctx.close();
});

// A merchant sets up its account with its API key once, then sees only its own messages.
flow('merchant', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US', viewport: { width: 1100, height: 700 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/console/setup`);
  await page.getByLabel('API key').fill(MERCHANT_KEY);
  await page.getByLabel('Account').fill('beta-shop');
  await page.getByLabel('Password').fill('beta shop password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Account created; sign in').waitFor();
  await signIn(page, 'beta-shop', 'beta shop password');
  await page.getByRole('link', { name: 'Messages', exact: true }).click();
  assert.equal(await page.locator(`a[href="/console/messages/${OWN_MESSAGE}"]`).count(), 1, 'its own message is listed');
  assert.equal(await page.locator(`a[href="/console/messages/${FOREIGN_MESSAGE}"]`).count(), 0, 'no one else\'s');
  await shot(page, '09-merchant-messages');
  await page.locator(`a[href="/console/messages/${OWN_MESSAGE}"]`).click();
  await page.getByRole('heading', { name: 'Decision' }).waitFor();
  // Another merchant's message id is not found.
  const resp = await page.goto(`${BASE}/console/messages/${FOREIGN_MESSAGE}`);
  assert.equal(resp.status(), 404);
  await shot(page, '10-merchant-foreign-404');
  const staff = await page.goto(`${BASE}/console/senders`);
  assert.equal(staff.status(), 404);
  await ctx.close();
});

// A form whose CSRF token was removed is refused with 403 and changes nothing.
flow('csrf', async () => {
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 500 } });
  const page = await ctx.newPage();
  await signIn(page, OPERATOR, PASSWORD);
  await page.goto(`${BASE}/console/senders`);
  await page.locator('form[action="/console/senders"][method="post"] input[name="csrf"]').evaluate((e) => e.remove());
  await page.getByLabel('Name').fill('Forged Shop');
  const [resp] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: 'Create' }).click(),
  ]);
  assert.equal(resp.status(), 403);
  await shot(page, '11-csrf-refused');
  await page.goto(`${BASE}/console/senders?q=Forged`);
  await page.getByText('Nothing found').waitFor();
  await ctx.close();
});

// Ten wrong passwords: the account refuses further attempts for a while.
flow('rate-limit', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US', viewport: { width: 1000, height: 500 } });
  const page = await ctx.newPage();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await signIn(page, OPERATOR, `wrong password ${i}`)).status());
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.deepEqual(statuses.slice(5), [429, 429, 429, 429, 429]);
  await page.getByText('Too many failed sign-ins').waitFor();
  assert.equal((await signIn(page, OPERATOR, PASSWORD)).status(), 429, 'even the right password waits');
  await shot(page, '12-rate-limited');
  await ctx.close();
});

// A consumer in the portal, with JavaScript off on a 375 px phone: proves their number with
// the code the handset received (in Chinese), refuses one shop (states read as words), reports
// the shop's message picked from the list, then switches to English.
flow('consumer', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN', viewport: { width: 375, height: 740 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/portal`);
  await page.getByRole('heading', { name: '营销短信授权' }).waitFor();
  await page.getByLabel('手机号').fill(CONSUMER);
  await page.getByRole('button', { name: '发送验证码' }).click();
  await page.getByText(/验证码已发送/).waitFor();
  // The loopback handset's inbox holds the code (the dispatcher may take a moment).
  let code = null;
  for (let i = 0; i < 50 && !code; i++) {
    const inbox = await fetch(`${BASE}/v1/phones/${CONSUMER}/inbox`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json());
    const m = (inbox.messages || []).filter((m) => m.category === 'verification').pop();
    code = m && (m.text.match(/\d{6}/) || [])[0];
    if (!code) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(code, 'a code reached the handset');
  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '确认' }).click();
  const gamma = page.locator('article', { has: page.getByRole('heading', { name: 'Gamma' }) });
  await gamma.getByText('已同意', { exact: true }).waitFor();
  assert.equal(await page.getByText('consented', { exact: true }).count(), 0, 'no raw state');
  // Mobile first: nothing wider than the phone.
  const main = await page.locator('main').boundingBox();
  assert.ok(main.x + main.width <= 375, `main is ${main.width}px wide at x=${main.x}`);
  await gamma.getByRole('button', { name: '拒收这家' }).click();
  await page.getByText('已拒收这家商家的营销短信。').waitFor();
  await gamma.getByText('已退订', { exact: true }).waitFor();
  // Its history: the shop's record, then the consumer's own choice.
  await gamma.getByText('完整记录').click();
  await gamma.getByRole('cell', { name: '商家记录' }).waitFor();
  await gamma.getByRole('cell', { name: '您本人的选择' }).waitFor();
  await shot(page, '13-portal-refused');
  await phoneShot(page, 'docs-portal');
  // Report the shop's message: picked from the messages sent to this number.
  const pick = page.getByRole('form', { name: '从列表中选择' });
  const options = await pick.getByLabel('短信').locator('option').allTextContents();
  assert.ok(options.some((o) => o.includes('Gamma')), options.join(' | '));
  await pick.getByLabel('原因').selectOption('unwanted_marketing');
  await pick.getByLabel(/补充说明/).fill('我从未同意接收');
  await pick.getByRole('button', { name: '提交举报' }).click();
  await page.getByText(/举报已提交/).waitFor();
  await shot(page, '16-portal-complaint');
  await phoneShot(page, 'docs-portal-complaint');
  // Twice is refused, in Chinese.
  await page.getByRole('form', { name: '从列表中选择' }).getByRole('button', { name: '提交举报' }).click();
  await page.getByText('您已举报过这条短信。').waitFor();
  // The language switch: the same page in English, remembered on the next page.
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Marketing consent' }).waitFor();
  await gamma.getByText('Refused', { exact: true }).waitFor();
  await page.goto(`${BASE}/portal`);
  await page.getByRole('button', { name: 'Refuse marketing from every shop' }).waitFor();
  await shot(page, '17-portal-en');
  await phoneShot(page, 'docs-portal-en');
  await ctx.close();
});

let failed = 0;
for (const [name, f] of flows) {
  try {
    await f();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    for (const ctx of browser.contexts()) for (const p of ctx.pages()) await shot(p, `failed-${name}`).catch(() => {});
    console.log(`FAILED ${name}: ${e.stack || e}`);
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
