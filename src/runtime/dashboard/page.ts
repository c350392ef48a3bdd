/**
 * The dashboard: one self-contained document (no external assets, no build step). It listens to
 * `/events` (server-sent events, one DashboardState per message) and falls back to polling
 * `/api/state` where EventSource is missing. Everything from the server is written with textContent.
 */
export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ecom dashboard</title>
<style>
  :root { color-scheme: light dark; --muted: #777; --bad: #c0392b; --warn: #b9770e; --good: #1e8449; }
  body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1rem; margin: 1.6rem 0 .4rem; }
  .sub, .muted { color: var(--muted); }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem; margin-top: 1rem; }
  .card { border: 1px solid #8884; border-radius: 6px; padding: .5rem .7rem; }
  .card b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: .25rem .6rem .25rem 0; border-bottom: 1px solid #8883; }
  th { font-weight: 600; }
  .state-listening, .state-running, .state-closed, .good { color: var(--good); }
  .state-starting, .state-draining, .state-backoff, .state-half-open, .warn { color: var(--warn); }
  .state-failed, .state-open, .state-stopped, .bad { color: var(--bad); }
  #conn { float: right; }
</style>
</head>
<body>
<span id="conn" class="muted">connecting…</span>
<h1 id="title">ecom</h1>
<div class="sub" id="subtitle"></div>
<div class="cards">
  <div class="card">requests/s<b id="rps">–</b></div>
  <div class="card">latency p50<b id="p50">–</b></div>
  <div class="card">latency p95<b id="p95">–</b></div>
  <div class="card">rate-limited/s<b id="r429">–</b><span class="muted" id="r429total"></span></div>
  <div class="card">open connections<b id="conns">–</b></div>
  <div class="card">worker restarts<b id="restarts">–</b><span class="muted" id="restartsby"></span></div>
</div>
<h2>Workers</h2>
<table id="workers"><thead><tr><th>id</th><th>pid</th><th>state</th><th>uptime</th><th>restarts</th><th>memory</th><th>requests</th></tr></thead><tbody></tbody></table>
<h2>Payments</h2>
<div id="sandbox" class="muted"></div>
<table id="payments"><thead><tr><th>provider</th><th>breaker</th><th>attempts by outcome</th></tr></thead><tbody></tbody></table>
<h2>Data and search</h2>
<table><tbody>
  <tr><th>ORM adapter</th><td id="orm">–</td></tr>
  <tr><th>search backend</th><td id="native">–</td></tr>
</tbody></table>
<script nonce="${nonce}">
(() => {
  const $ = (id) => document.getElementById(id)
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e }
  const dur = (ms) => { const s = Math.floor(ms / 1000); return s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm' + (s % 60) + 's' : Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm' }
  const mb = (n) => n ? (n / 1048576).toFixed(1) + ' MB' : '–'
  const num = (n, d = 1) => n === null || n === undefined ? '–' : n.toFixed(d)
  const ms = (n) => n === null ? '–' : (n < 10 ? n.toFixed(2) : n.toFixed(0)) + ' ms'

  function render(s) {
    document.title = s.app.name + ' – ecom dashboard'
    $('title').textContent = s.app.name
    $('subtitle').textContent = s.app.mode + ' · primary pid ' + s.app.pid + ' · ' + s.app.url + ' · up ' + dur(s.app.uptimeMs)
    $('rps').textContent = num(s.http.requestsPerSecond)
    $('p50').textContent = ms(s.http.p50Ms)
    $('p95').textContent = ms(s.http.p95Ms)
    $('r429').textContent = num(s.rateLimit.rejectedPerSecond)
    $('r429total').textContent = s.rateLimit.rejectedTotal + ' in total'
    $('conns').textContent = s.http.openConnections
    const byReason = Object.entries(s.restarts).filter(([, n]) => n > 0)
    $('restarts').textContent = s.workers.reduce((a, w) => a + (w.restarts || 0), 0)
    $('restartsby').textContent = byReason.map(([r, n]) => r + ' ' + n).join(', ')

    const wb = $('workers').tBodies[0]
    wb.replaceChildren(...s.workers.map((w) => {
      const tr = el('tr')
      tr.dataset.workerId = w.id
      tr.dataset.pid = w.pid
      tr.dataset.state = w.state
      tr.dataset.restarts = w.restarts
      tr.append(el('td', w.id), el('td', w.pid || '–'), el('td', w.state, 'state-' + w.state), el('td', dur(w.uptimeMs)), el('td', w.restarts), el('td', mb(w.rss)), el('td', w.requests))
      return tr
    }))

    const sb = s.sandbox
    $('sandbox').textContent = sb ? 'sandbox ' + sb.url + ' (admin ' + sb.adminUrl + ') · ' + sb.state + (sb.pid ? ', pid ' + sb.pid : '') + ', restarts ' + sb.restarts : 'no payment sandbox (start with --sandbox)'
    if (sb) $('sandbox').className = 'state-' + sb.state
    const pb = $('payments').tBodies[0]
    if (s.payments.length === 0) {
      const td = el('td', 'no payment attempts yet', 'muted')
      td.colSpan = 3
      pb.replaceChildren(el('tr'))
      pb.rows[0].append(td)
    } else pb.replaceChildren(...s.payments.map((p) => {
      const tr = el('tr')
      tr.dataset.provider = p.provider
      const detail = p.breakerByWorker.length > 1 && p.breakerByWorker.some((b) => b.state !== p.breaker) ? ' (' + p.breakerByWorker.map((b) => b.pid + ': ' + b.state).join(', ') + ')' : ''
      tr.append(el('td', p.provider), el('td', p.breaker + detail, 'state-' + p.breaker), el('td', Object.entries(p.attempts).map(([o, n]) => o + ' ' + n).join(', ') || '–'))
      return tr
    }))

    $('orm').textContent = s.orm.length === 0 ? 'no ORM manager in use' : s.orm.map((a) => a.adapter + (a.activeIn ? ' (active in ' + a.activeIn + ')' : '') + (a.healthyIn < a.reporting ? ', benched in ' + (a.reporting - a.healthyIn) : '')).join(' · ')
    const nb = s.native.backends
    $('native').textContent = nb.length ? nb.map((b) => (b.backend === 'native' ? 'native addon (' + b.simd + ')' : 'TypeScript fallback') + ' in ' + b.workers + ' worker(s)').join(' · ')
      : s.native.primary ? 'not used by the app yet; available: ' + (s.native.primary.native ? 'native addon' : 'TypeScript fallback (' + s.native.primary.reason + ')') : '–'
    $('conn').textContent = 'live · ' + new Date(s.sampledAt).toLocaleTimeString()
    $('conn').className = 'good'
  }

  let polling = false
  async function poll() {
    polling = true
    for (;;) {
      try {
        const r = await fetch('/api/state', { credentials: 'same-origin' })
        if (r.status === 401) { $('conn').textContent = 'not authorised: open the link from ecom status --web'; $('conn').className = 'bad'; return }
        render(await r.json())
      } catch { $('conn').textContent = 'disconnected; retrying'; $('conn').className = 'bad' }
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  if (!window.EventSource) return void poll()
  const es = new EventSource('/events')
  es.onmessage = (e) => render(JSON.parse(e.data))
  es.onerror = () => {
    $('conn').textContent = 'disconnected; retrying'
    $('conn').className = 'bad'
    // Closed for good (the app stopped, or 401 after a restart with a new token): poll to say why.
    if (es.readyState === EventSource.CLOSED && !polling) void poll()
  }
})()
</script>
</body>
</html>
`
}
