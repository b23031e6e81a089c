import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRIC_NAMES } from '@hyper/s2s-contracts';
import { VERIFY_CHANNEL, type VerifyEvent } from '@hyper/s2s-verifier';
import type { Registry } from 'prom-client';

/**
 * Core's /admin page: the s2s_auth_* counters and a live feed of verifications over Server-Sent
 * Events, fed by the verifier's `hyper:s2s:verify` diagnostics_channel (which never carries a token).
 * The channel is subscribed only while a browser watches, so an unwatched Core pays nothing.
 * A demo page: a real deployment puts it behind its own admin authentication.
 */
export interface AdminPage {
  /** Serves GET /admin, /admin/counters and /admin/events; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends every open feed (so the HTTP server can close) and unsubscribes. */
  close(): void;
}

export const ADMIN_PATHS = { page: '/admin', counters: '/admin/counters', events: '/admin/events' } as const;

const AUTH_COUNTERS: ReadonlySet<string> = new Set(Object.values(METRIC_NAMES));

export interface CounterRow {
  name: string;
  reason: string;
  path: string;
  scope: string;
  value: number;
}

async function counters(registry: Registry): Promise<CounterRow[]> {
  const rows: CounterRow[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!AUTH_COUNTERS.has(metric.name)) continue;
    for (const { labels, value } of metric.values) {
      rows.push({
        name: metric.name,
        reason: String(labels.reason),
        path: String(labels.path),
        scope: String(labels.scope),
        value,
      });
    }
  }
  return rows;
}

export function adminPage(registry: Registry): AdminPage {
  const feeds = new Set<ServerResponse>();
  const onVerify = (message: unknown) => {
    const event = message as VerifyEvent;
    const line = `data: ${JSON.stringify({ ...event, at: new Date().toISOString() })}\n\n`;
    for (const res of feeds) res.write(line);
  };
  const watch = (res: ServerResponse) => {
    if (feeds.size === 0) subscribe(VERIFY_CHANNEL, onVerify);
    feeds.add(res);
    res.on('close', () => {
      feeds.delete(res);
      if (feeds.size === 0) unsubscribe(VERIFY_CHANNEL, onVerify);
    });
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') return false;
      if (path === ADMIN_PATHS.page) {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          // Inline script and style only; nothing loaded from elsewhere.
          'content-security-policy':
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
        });
        res.end(PAGE);
        return true;
      }
      if (path === ADMIN_PATHS.counters) {
        counters(registry).then((rows) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(rows));
        });
        return true;
      }
      if (path === ADMIN_PATHS.events) {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write('retry: 2000\n\n');
        watch(res);
        return true;
      }
      return false;
    },
    close() {
      for (const res of feeds) res.end();
      feeds.clear();
      unsubscribe(VERIFY_CHANNEL, onVerify);
    },
  };
}

// Values from the feed (kid is the token sender's text) go into the DOM through textContent only.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hyper Core · S2S auth admin</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 24px 0 8px; }
  #status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #ddd; }
  #status.live { background: #cdebd3; color: #13622a; }
  .totals { display: flex; gap: 12px; }
  .total { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 110px; box-shadow: 0 1px 2px #0002; }
  .total b { display: block; font-size: 24px; }
  table { border-collapse: collapse; background: #fff; width: 100%; box-shadow: 0 1px 2px #0002; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
  th { background: #eef0f4; font-weight: 600; }
  td.s200 { color: #13622a; } td.s401, td.s403 { color: #9a3b00; } td.s503 { color: #a40e26; }
</style>
</head>
<body>
<h1>S2S auth <span id="status">connecting</span></h1>
<div>Counters from <code>/metrics</code> (s2s_auth_*), live feed from the <code>hyper:s2s:verify</code> channel. Tokens are never shown: the feed does not carry them.</div>
<h2>Totals</h2>
<div class="totals">
  <div class="total">200 ok<b id="t200">0</b></div>
  <div class="total">401<b id="t401">0</b></div>
  <div class="total">403<b id="t403">0</b></div>
  <div class="total">503<b id="t503">0</b></div>
</div>
<h2>Counters</h2>
<table><thead><tr><th>counter</th><th>reason</th><th>path</th><th>scope</th><th>value</th></tr></thead><tbody id="counters"></tbody></table>
<h2>Live feed</h2>
<table><thead><tr><th>time</th><th>status</th><th>reason</th><th>path</th><th>scope</th><th>kid</th><th>ms</th></tr></thead><tbody id="feed"></tbody></table>
<script>
const NAME = { 200: '${METRIC_NAMES.success}', 401: '${METRIC_NAMES.unauthorized}', 403: '${METRIC_NAMES.forbidden}', 503: '${METRIC_NAMES.unavailable}' };
const rows = new Map();
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function total(status, by) { const el = document.getElementById('t' + status); if (el) el.textContent = String(Number(el.textContent) + by); }
function count(row) {
  const key = [row.name, row.reason, row.path, row.scope].join(' ');
  let entry = rows.get(key);
  if (!entry) {
    const tr = document.createElement('tr');
    for (const v of [row.name, row.reason, row.path, row.scope]) cell(tr, v);
    entry = { td: cell(tr, '0'), value: 0 };
    rows.set(key, entry);
    document.getElementById('counters').appendChild(tr);
  }
  entry.value += row.value;
  entry.td.textContent = String(entry.value);
  const status = Object.keys(NAME).find((s) => NAME[s] === row.name);
  if (status) total(status, row.value);
}
fetch('/admin/counters').then((r) => r.json()).then((list) => {
  for (const row of list) count(row);
  const feed = new EventSource('/admin/events');
  const status = document.getElementById('status');
  feed.onopen = () => { status.textContent = 'live'; status.className = 'live'; };
  feed.onerror = () => { status.textContent = 'reconnecting'; status.className = ''; };
  feed.onmessage = (message) => {
    const e = JSON.parse(message.data);
    count({ name: NAME[e.status], reason: e.reason, path: e.path, scope: e.scope, value: 1 });
    const tr = document.createElement('tr');
    cell(tr, e.at.slice(11, 23));
    cell(tr, String(e.status), 's' + e.status);
    cell(tr, e.reason);
    cell(tr, e.path);
    cell(tr, e.scope);
    cell(tr, e.kid ?? (e.unverifiedKid === undefined ? '' : e.unverifiedKid + ' (unverified)'));
    cell(tr, e.durationMs.toFixed(2));
    const body = document.getElementById('feed');
    body.prepend(tr);
    while (body.children.length > 50) body.lastChild.remove();
  };
});
</script>
</body>
</html>
`;
