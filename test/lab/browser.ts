/**
 * A headless browser for lab tests: Debian's chromium driven by playwright-core (no browser is
 * downloaded). It must run inside a lab namespace to reach the daemons' API there, and Playwright
 * starts the browser as its own child, so this file is a small driver process that a test spawns
 * in the client namespace (`openBrowser`) and talks to with JSON lines: commands on its stdin,
 * answers on its stdout.
 *
 *   node --import tsx test/lab/browser.ts '{"userDataDir": DIR}'
 *   → {"cmd":"open","id":"alpha","url":"http://10.77.0.11:9694/"}      ← {"ok":true}
 *   → {"cmd":"waitHolder","id":"beta","group":"web","holder":"beta","reason":"peer-dead","timeoutMs":20000}
 *                                                          ← {"ok":true,"at":<page's Date.now()>}
 *   → {"cmd":"waitStale","id":"alpha","timeoutMs":10000}                ← {"ok":true,"at":…}
 *   → {"cmd":"text","id":"beta"}                                        ← {"ok":true,"text":…}
 *   → {"cmd":"shot","id":"beta","file":"/…/beta.png","width":390}      ← {"ok":true}
 *   → {"cmd":"close"}                                                   ← {"ok":true}, exit 0
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from './netns.js';

export const CHROMIUM = '/usr/bin/chromium';

/** The flags the project runs chromium with: nothing phones home, nothing is cached across runs. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Browser {
  /** Sends a command and waits for its answer; throws with the driver's error when it failed. */
  call(command: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Why no browser can run here, or null. */
export function browserUnavailable(): string | null {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (Debian package chromium)`;
  try {
    import.meta.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci)';
  }
  return null;
}

/** Starts the driver in a lab namespace (the client's by default), with a fresh profile under the lab's dir. */
export async function openBrowser(lab: Lab, ns = 'client'): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(lab.dir, 'chromium-'));
  const child: ChildProcess = lab.spawn(ns, [process.execPath, '--import', 'tsx', path.join(HERE, 'browser.ts'), JSON.stringify({ userDataDir })], {
    stdio: ['pipe', 'pipe', fs.openSync(path.join(lab.dir, 'logs', 'browser.log'), 'a')],
    cwd: path.resolve(HERE, '../..'),
  });
  const answers: ((line: string) => void)[] = [];
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (line) => answers.shift()?.(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const call = async (command: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> => {
    const answer = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`browser: no answer to ${command.cmd} within ${timeoutMs} ms`)), timeoutMs);
      answers.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exited.then(() => reject(new Error(`browser driver exited during ${command.cmd}; see ${path.join(lab.dir, 'logs', 'browser.log')}`)));
    });
    child.stdin!.write(`${JSON.stringify(command)}\n`);
    const reply = JSON.parse(await answer) as Record<string, unknown>;
    if (reply.ok !== true) throw new Error(`browser: ${command.cmd} failed: ${String(reply.error)}`);
    return reply;
  };
  await call({ cmd: 'ping' });
  return {
    call,
    async close() {
      if (child.exitCode !== null) return;
      await call({ cmd: 'close' }).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      lab.kill(child, 'SIGKILL');
    },
  };
}

/** The driver itself, when run as a script. */
async function drive(options: { userDataDir: string }): Promise<void> {
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(options.userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 900, height: 900 },
  });
  const pages = new Map<string, import('playwright-core').Page>();
  const page = (id: unknown) => {
    const p = pages.get(String(id));
    if (p === undefined) throw new Error(`no page ${String(id)}`);
    return p;
  };
  const reply = (value: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ok: true, ...value })}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const c = JSON.parse(line) as Record<string, unknown>;
    try {
      switch (c.cmd) {
        case 'ping':
          reply({});
          break;
        case 'open': {
          const p = pages.get(String(c.id)) ?? (context.pages().find((x) => x.url() === 'about:blank' && ![...pages.values()].includes(x)) ?? (await context.newPage()));
          pages.set(String(c.id), p);
          await p.goto(String(c.url), { waitUntil: 'load', timeout: 15_000 });
          reply({});
          break;
        }
        case 'waitHolder': {
          // Evaluated in the page every 10 ms; answers the page's own clock when it shows both.
          const at = await page(c.id).waitForFunction(
            ([group, holder, reason]) => {
              const row = [...document.querySelectorAll('#groups tr')].find((tr) => tr.firstElementChild?.textContent === group);
              const shown = row?.querySelector('.holder')?.textContent === holder;
              const timeline = document.querySelector('#timeline')?.textContent ?? '';
              return shown && (reason === '' || timeline.includes(reason)) ? Date.now() : false;
            },
            [String(c.group), String(c.holder), String(c.reason ?? '')] as const,
            { polling: 10, timeout: Number(c.timeoutMs ?? 20_000) },
          );
          reply({ at: await at.jsonValue() });
          break;
        }
        case 'waitStale': {
          const at = await page(c.id).waitForFunction(() => (document.querySelector('#stale.on') !== null ? Date.now() : false), undefined, { polling: 50, timeout: Number(c.timeoutMs ?? 10_000) });
          reply({ at: await at.jsonValue() });
          break;
        }
        case 'text':
          reply({ text: await page(c.id).innerText('body') });
          break;
        case 'shot': {
          const p = page(c.id);
          if (c.width !== undefined) await p.setViewportSize({ width: Number(c.width), height: Number(c.height ?? 900) });
          fs.mkdirSync(path.dirname(String(c.file)), { recursive: true });
          await p.screenshot({ path: String(c.file), fullPage: true });
          reply({});
          break;
        }
        case 'close':
          await context.close();
          reply({});
          process.exit(0);
        default:
          throw new Error(`unknown command ${String(c.cmd)}`);
      }
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`);
    }
  }
  await context.close();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await drive(JSON.parse(process.argv[2] ?? '{}') as { userDataDir: string });
}
