/**
 * console_navigator / console_tenant: the console served by `strata serve` (a child process, as
 * a user runs it) on an x1 SQLite workspace made by the demo loader, in headless Chromium driven
 * by playwright-core. Each page load is a fresh browser context (cold cache):
 *   - console_navigator: from navigation start to the navigator showing the demo network (a
 *     tenant row of the hierarchy painted);
 *   - console_tenant: from the click on a tenant in the navigator to that tenant's keys painted in
 *     the level editor (every tenant of the network, in turn, on each page);
 *   - while typing into the user search (10,000 users) and the key filter, the longest task that
 *     blocked the page (PerformanceObserver 'longtask').
 * Times come from performance marks inside the page. The console's own marks
 * (strata:navigator-ready, strata:tenant-keys-shown) are used when it sets them; otherwise the
 * page gets an init script whose MutationObserver sets equivalent marks one frame after the DOM
 * shows the state (so after it is painted), without any change to the console's code.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { rendererDir } from '../src-main/bridge/paths.js';
import { loadDemo } from '../src-main/demo/load-demo.js';
import { packageRoot } from '../src-main/bridge/paths.js';
import type { BenchContext } from './lib/context.js';
import { makeResult, notMeasured } from './lib/result.js';
import type { BenchResult, Target } from './lib/result.js';

const NAV_TARGET: Omit<Target, 'met'> = { median_max: 1500 };
const TENANT_TARGET: Omit<Target, 'met'> = { median_max: 100 };

/** The Chromium to drive (Debian's by default). */
export function chromiumPath(): string {
  return process.env.STRATA_BENCH_CHROMIUM ?? '/usr/bin/chromium';
}

// Runs in the page before any of its scripts.
const INIT_SCRIPT = `(() => {
  const mark = (name) => {
    if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name);
  };
  const afterPaint = (fn) => requestAnimationFrame(() => setTimeout(fn, 0));
  const state = { longtasks: [], tenant: null, keysSeen: false, navSeen: false, clicks: [] };
  window.__strataBench = state;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  const check = () => {
    if (!state.navSeen && document.querySelector('nav[aria-label="Navigator"] [data-level="tenant"]')) {
      state.navSeen = true;
      afterPaint(() => mark('strata-bench:navigator-ready'));
    }
    if (state.tenant !== null && !state.keysSeen) {
      const editor = document.querySelector('section[aria-label="Level editor"]');
      const heading = editor && editor.querySelector('h2');
      if (heading && heading.textContent.includes('(' + state.tenant + ')') &&
          editor.querySelector('[data-key]') && !document.querySelector('[aria-label="Loading keys"]')) {
        state.keysSeen = true;
        const tenant = state.tenant;
        afterPaint(() => performance.mark('strata-bench:tenant-keys-shown:' + tenant));
      }
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  document.addEventListener('click', (e) => {
    const row = e.target instanceof Element ? e.target.closest('[data-level="tenant"]') : null;
    if (!row) return;
    state.tenant = row.getAttribute('data-scope');
    state.keysSeen = false;
    performance.mark('strata-bench:tenant-click:' + state.tenant);
    check();
  }, true);
})();`;

/** Runs the renderer build; resolves with null, or the last line of its error output. */
function buildRenderer(): Promise<string | null> {
  const root = packageRoot();
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'src-renderer/vite.config.ts',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000);
  });
  return new Promise((resolve) => {
    child.on('error', (e) => resolve(e.message));
    child.on('exit', (code) =>
      resolve(code === 0 ? null : (err.trim().split('\n').pop() ?? `exit ${String(code)}`)),
    );
  });
}

/** Starts `strata serve` on a workspace; resolves with the child and the URL it prints first. */
async function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(packageRoot(), 'bin', 'strata.js'), 'serve', '--db', db, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => {
    errText = (errText + d.toString()).slice(-2000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error('strata serve printed no URL within 60 s')),
      60_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `strata serve exited (${String(code)}): ${errText.trim().split('\n').pop() ?? ''}`,
        ),
      );
    });
  });
  return { child, url };
}

/**
 * Waits for a mark and returns its time: the console's own mark (`official`, the first one at or
 * after `since`, for `scope` when given: the console puts the slot's scope in the mark's detail)
 * when it sets one, else the bench's mark (`ours`).
 */
async function markTime(
  page: Page,
  ours: string,
  official: string,
  since: number,
  timeoutMs: number,
  scope: string | null = null,
): Promise<[number, boolean]> {
  const handle = await page.waitForFunction(
    (n) => {
      const own = performance
        .getEntriesByName(n.official, 'mark')
        .find(
          (m) =>
            m.startTime >= n.since &&
            (n.scope === null ||
              ((m as PerformanceMark).detail as { scope?: unknown } | null)?.scope === n.scope),
        );
      const bench = performance.getEntriesByName(n.ours, 'mark')[0];
      const m = own ?? bench;
      return m ? [m.startTime, own !== undefined] : null;
    },
    { official, ours, since, scope },
    { timeout: timeoutMs, polling: 50 },
  );
  return (await handle.jsonValue()) as [number, boolean];
}

/** Runs both console benchmarks (and the typing check). */
export async function consoleBenchmarks(
  ctx: BenchContext,
  skip: string | null,
): Promise<[BenchResult, BenchResult]> {
  const fail = (why: string): [BenchResult, BenchResult] => [
    notMeasured('console_navigator', 'ms', why, NAV_TARGET),
    notMeasured('console_tenant', 'ms', why, TENANT_TARGET),
  ];
  if (skip !== null) return fail(skip);
  if (!existsSync(chromiumPath())) return fail(`no Chromium at ${chromiumPath()}`);
  if (!existsSync(join(rendererDir(), 'index.html'))) {
    // A fresh clone has no built console: build it as `npm run build:renderer` does.
    ctx.log('Building the console (vite build)...');
    const built = await buildRenderer();
    if (built !== null) return fail(`the console could not be built: ${built}`);
  }

  const db = join(ctx.tmp, 'console-x1.sqlite');
  await loadDemo(db, { scale: 1, operator: 'strata-bench' });
  let server: { child: ChildProcess; url: string } | null = null;
  let browser: Browser | null = null;
  try {
    server = await serve(db);
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const tenants = ['tenant_001', 'tenant_002', 'tenant_003', 'tenant_004', 'tenant_005'];
    const pages = ctx.iterations(6, 2);
    const nav: number[] = [];
    const fcp: number[] = [];
    const tenant: number[] = [];
    const slotFetch: number[] = [];
    let longest = 0;
    let official = false;
    for (let p = 0; p < pages; p++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      try {
        const page = await context.newPage();
        await page.addInitScript(INIT_SCRIPT);
        await page.goto(server.url);
        const [ready, own] = await markTime(
          page,
          'strata-bench:navigator-ready',
          'strata:navigator-ready',
          0,
          60_000,
        );
        nav.push(ready);
        official ||= own;
        const paint = await page.evaluate(
          () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        );
        if (paint !== null) fcp.push(paint);
        // Collapse the tenants (untimed) so every tenant row sits in the virtualised list's view.
        for (let i = 1; i <= tenants.length; i++) {
          const toggle = page.getByRole('button', { name: `Collapse Tenant ${i}`, exact: true });
          if ((await toggle.count()) > 0) await toggle.click();
        }
        for (const t of tenants) {
          await page.click(`nav[aria-label="Navigator"] [data-level="tenant"][data-scope="${t}"]`);
          const click = await page.evaluate(
            (n) => performance.getEntriesByName(n, 'mark')[0]?.startTime ?? null,
            `strata-bench:tenant-click:${t}`,
          );
          if (click === null) throw new Error(`the click on ${t} was not seen by the page`);
          const [shown, own2] = await markTime(
            page,
            `strata-bench:tenant-keys-shown:${t}`,
            'strata:tenant-keys-shown',
            click,
            30_000,
            t,
          );
          official ||= own2;
          tenant.push(shown - click);
        }
        const fetches = await page.evaluate(() =>
          performance
            .getEntriesByType('resource')
            .filter((e) => e.name.includes('config:slot'))
            .map((e) => e.duration),
        );
        slotFetch.push(...fetches.slice(1));
        if (p === 0) {
          // Typing into the two filters over thousands of items, at a brisk typist's pace.
          const before = await page.evaluate(() => performance.now());
          await page.getByLabel('Search users').pressSequentially('user 12', { delay: 60 });
          await page.getByLabel('Filter keys').pressSequentially('setting_01', { delay: 60 });
          await page.waitForTimeout(300);
          longest = await page.evaluate((since) => {
            const s = (
              window as unknown as { __strataBench: { longtasks: Array<[number, number]> } }
            ).__strataBench;
            return Math.max(0, ...s.longtasks.filter(([t]) => t >= since).map(([, d]) => d));
          }, before);
        }
      } finally {
        await context.close();
      }
    }
    const chromiumVersion = browser.version();
    const how = official
      ? "the console's own performance marks"
      : 'marks set by an injected MutationObserver one frame after the DOM shows the state (the console sets none)';
    const navResult = makeResult(
      'console_navigator',
      {
        subject:
          'navigation start -> navigator showing the x1 network (strata serve, fresh context)',
        values: nav,
        unit: 'ms',
      },
      fcp.length > 0
        ? [
            {
              name: 'first contentful paint',
              values: fcp,
              variant: true,
              note: 'the same page loads',
            },
          ]
        : [],
      NAV_TARGET,
      { chromium: chromiumVersion, page_loads: nav.length },
      [`Measured with ${how}.`],
    );
    const tenantResult = makeResult(
      'console_tenant',
      {
        subject: 'click on a tenant -> its keys painted in the level editor',
        values: tenant,
        unit: 'ms',
      },
      slotFetch.length > 0
        ? [
            {
              name: 'the config:slot request inside it (resource timing)',
              values: slotFetch,
              variant: true,
              note: 'server and network share of the figure',
            },
          ]
        : [],
      TENANT_TARGET,
      {
        chromium: chromiumVersion,
        clicks: tenant.length,
        filter_longest_task_ms: Math.round(longest),
      },
      [
        `Measured with ${how}.`,
        longest === 0
          ? 'Typing into the user search (10,000 users) and the key filter: no task blocked the page for 50 ms or more (the longtask threshold); target: never above 50 ms.'
          : `Typing into the user search (10,000 users) and the key filter: longest blocking task ${Math.round(longest)} ms (target: never above 50 ms).`,
      ],
    );
    return [navResult, tenantResult];
  } catch (err) {
    const why = (err as Error).message.split('\n')[0] ?? '';
    ctx.log(`console benchmarks: ${(err as Error).message}`);
    return fail(`the console could not be driven: ${why}`);
  } finally {
    await browser?.close().catch(() => undefined);
    if (server !== null) {
      const child = server.child;
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }
}
