/**
 * The status page at `GET /`: one self-contained HTML document (no framework, no CDN, nothing
 * built at run time) that polls `/status` on the same port and shows who holds each group, the
 * election (with etcd: the lease, the fence, whether etcd answers, each group's owner in etcd),
 * each peer per path, the protected containers and the last transitions with their reasons. It
 * is a string in the compiled code, so it ships wherever dist/ does (the image copies dist/sidecar).
 *
 * Polling rather than server-sent events: a poll is one short request on a kept-alive
 * connection, so an open page never holds one of the API's bounded connections (api/limits.ts)
 * and needs no route of its own. Everything the page writes goes through textContent: node,
 * group and container names come from the configuration, never as markup.
 */
import { createHash } from 'node:crypto';

/** Often enough to show a takeover within a second of it; a poll costs one snapshot. */
export const STATUS_PAGE_POLL_MS = 400;
/** No answer from the node for this long and the page says its view is stale. */
export const STATUS_PAGE_STALE_MS = 2_000;

const STYLE = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#c62828;--warn:#9a6700;--mute:#777;--line:#8884}
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:.75rem}
h1{font-size:1.25rem;margin:.2rem 0}h2{font-size:1rem;margin:1.2rem 0 .3rem}
.sub{color:var(--mute)}.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
th{font-weight:600;font-size:.85rem;color:var(--mute)}td.path{padding-left:1.5rem;color:var(--mute)}
#stale{display:none;background:var(--bad);color:#fff;padding:.5rem .75rem;border-radius:.3rem;margin:.5rem 0}
#stale.on{display:block}.holder{font-weight:700}.stale table{opacity:.55}
@media (max-width:40rem){body{font-size:14px;padding:.5rem}th,td{white-space:normal;padding:.2rem .3rem}}
`;

const SCRIPT = `
"use strict";
const POLL_MS = ${STATUS_PAGE_POLL_MS}, STALE_MS = ${STATUS_PAGE_STALE_MS};
const $ = (id) => document.getElementById(id);
let last = null, lastAt = 0, failure = "";
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); if (cls) td.className = cls; return td; }
function fill(id, rows, empty) {
  const body = $(id); body.replaceChildren();
  for (const cells of rows) { const tr = document.createElement("tr"); tr.append(...cells); body.append(tr); }
  if (rows.length === 0) { const tr = document.createElement("tr"); const td = cell(empty, "sub"); td.colSpan = 9; tr.append(td); body.append(tr); }
}
const ago = (ms) => ms == null ? "never" : ms < 1000 ? Math.round(ms) + " ms ago" : (ms / 1000).toFixed(1) + " s ago";
const stateClass = (s) => s === "up" ? "ok" : s === "late" ? "warn" : s === "unknown" ? "sub" : "bad";
const clock = (iso) => { const d = new Date(iso); return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0"); };
function render(s) {
  document.title = s.node + ": " + (s.groups.map((g) => g.id + " " + (g.holder ?? "nobody")).join(", ") || s.role);
  $("node").textContent = s.node;
  $("role").textContent = s.role + (s.maintenance ? ", maintenance" : "") + (s.standby ? ", standby" : "") + " · holds " + s.rscstatus + " resources · " + (s.healthy ? "healthy" : "unhealthy: " + s.healthReasons.join("; ")) + " · config " + s.configHash;
  $("role").className = s.healthy ? "sub" : "bad";
  fill("groups", s.groups.map((g) => [
    cell(g.id), cell(g.holder ?? "nobody", g.holder ? "holder" : "holder bad"), cell(g.localClaim),
    cell(g.vips.map((v) => v.address + (v.present ? " (here)" : "")).join(", ")), cell(g.preferred ?? "none"),
  ]), "no resource groups");
  const rows = [[cell(s.node + " (this node)"), cell(s.role), cell("now"), cell(""), cell(s.healthy ? "yes" : "no", s.healthy ? "ok" : "bad")]];
  for (const p of s.peers) {
    const flags = [p.standby ? "standby" : "", p.maintenance ? "maintenance" : ""].filter(Boolean).join(", ");
    rows.push([cell(p.node + (flags ? " (" + flags + ")" : "")), cell(p.state, stateClass(p.state)), cell(ago(p.lastHeardAgoMs)), cell(p.rttMs == null ? "" : p.rttMs.toFixed(2) + " ms"), cell(p.healthy == null ? "?" : p.healthy ? "yes" : "no", p.healthy === false ? "bad" : "")]);
    for (const path of p.paths) rows.push([cell(path.path, "path"), cell(path.state, stateClass(path.state)), cell(ago(path.lastHeardAgoMs)), cell(""), cell("")]);
  }
  fill("nodes", rows, "");
  fill("containers", s.containers.map((c) => [
    cell(c.group), cell(c.name), cell(c.state ?? "not seen yet"), cell(c.health ?? ""),
    cell(c.dockerUp == null ? "not asked yet" : c.dockerUp ? "answers" : "unreachable" + (c.dockerError ? ": " + c.dockerError : ""), c.dockerUp === false ? "bad" : c.dockerUp ? "ok" : "sub"),
    cell(c.healthWaiting ?? "", "sub"),
  ]), "no protected container");
  renderElection(s.election);
  const timeline = (s.recentTransitions ?? (s.lastTransition ? [s.lastTransition] : [])).slice().reverse();
  fill("timeline", timeline.map((t) => [cell(clock(t.at)), cell(t.group), cell(t.from + " → " + t.to), cell(t.reason)]), "no transition since start");
}
function renderElection(e) {
  const etcd = e != null && e.backend === "etcd";
  $("election").textContent = !etcd ? "heartbeat: the nodes elect among themselves, over the paths" :
    "etcd · lease " + (e.lease ?? "none") + " · " + (e.fenceInMs == null ? "no fence: nothing may be held" : e.fenceInMs > 0 ? "fence in " + (e.fenceInMs / 1000).toFixed(1) + " s" : "fence passed") +
    " · " + (e.storeReachable ? "etcd answers" : "etcd does not answer") + " · on_store_lost " + e.onStoreLost + " · registered: " + (e.candidates.join(", ") || "none");
  $("election").className = etcd && (!e.storeReachable || e.fenceInMs == null) ? "bad" : "sub";
  $("owners").hidden = !etcd;
  fill("owners-rows", etcd ? Object.entries(e.holders).map(([g, o]) => [cell(g), cell(o ?? "nobody", o ? "holder" : "holder bad")]) : [], "no resource groups");
}
function tick() {
  const age = Date.now() - lastAt;
  const stale = last === null || age > STALE_MS;
  $("stale").className = stale ? "on" : "";
  document.body.classList.toggle("stale", stale);
  $("stale").textContent = last === null ? "No answer from this node yet" + (failure ? " (" + failure + ")" : "") + "." :
    "Stale: no answer from " + last.node + " for " + (age / 1000).toFixed(0) + " s" + (failure ? " (" + failure + ")" : "") + "; below is what it said last.";
  $("updated").textContent = last === null ? "" : "updated " + ago(age);
}
async function poll() {
  const started = Date.now();
  try {
    const r = await fetch("status", { cache: "no-store", headers: { accept: "application/json" }, signal: AbortSignal.timeout(STALE_MS) });
    if (!r.ok) throw new Error("HTTP " + r.status);
    last = await r.json(); lastAt = Date.now(); failure = "";
    render(last);
  } catch (err) { failure = err && err.message ? err.message : String(err); }
  tick();
  setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
}
setInterval(tick, 1000);
poll();
`;

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>heartbeat-sidecar</title><style>${STYLE}</style></head>
<body>
<h1>heartbeat-sidecar · <span id="node"></span></h1>
<div id="role" class="sub"></div><div id="updated" class="sub"></div>
<div id="stale" role="alert"></div>
<h2>Groups</h2><div class="wrap"><table><thead><tr><th>group</th><th>holder</th><th>this node's claim</th><th>VIPs</th><th>preferred</th></tr></thead><tbody id="groups"></tbody></table></div>
<h2>Election</h2><div id="election" class="sub"></div>
<div class="wrap" id="owners"><table><thead><tr><th>group</th><th>owner in etcd</th></tr></thead><tbody id="owners-rows"></tbody></table></div>
<h2>Nodes</h2><div class="wrap"><table><thead><tr><th>node / path</th><th>state</th><th>last heard</th><th>RTT</th><th>healthy</th></tr></thead><tbody id="nodes"></tbody></table></div>
<h2>Protected containers</h2><div class="wrap"><table><thead><tr><th>group</th><th>container</th><th>state</th><th>health</th><th>Docker</th><th>note</th></tr></thead><tbody id="containers"></tbody></table></div>
<h2>Last transitions</h2><div class="wrap"><table><thead><tr><th>time</th><th>group</th><th>claim</th><th>reason</th></tr></thead><tbody id="timeline"></tbody></table></div>
<p class="sub">Read-only. JSON: <a href="status">/status</a> · <a href="metrics">/metrics</a></p>
<script>${SCRIPT}</script>
</body></html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page and its headers: the CSP allows exactly its own inline script and style, and requests to this origin. */
export const STATUS_PAGE = {
  html: HTML,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  },
} as const;
