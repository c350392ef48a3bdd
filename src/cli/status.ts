import { spawn } from 'node:child_process'
import type { Command } from 'commander'
import { DashboardDisabledError } from '../errors.js'
import { sendControl } from '../runtime/supervisor/control-socket.js'
import type { AppStatus } from '../runtime/supervisor/status.js'
import { addAppSelection, selectFromFlags } from './app-select.js'

function duration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
}

function bytes(n: number): string {
  return n === 0 ? '-' : `${(n / 1024 / 1024).toFixed(1)}MB`
}

export function formatStatus(st: AppStatus): string {
  const head = `${st.name}: ${st.mode}, primary pid ${st.pid}, http://${st.host}:${st.port}, up ${duration(st.uptimeMs)}`
  const rows = [['id', 'pid', 'state', 'uptime', 'restarts', 'rss', 'requests']]
  for (const w of st.workers) {
    rows.push([String(w.id), w.pid ? String(w.pid) : '-', w.state, duration(w.uptimeMs), String(w.restarts), bytes(w.rss), String(w.requests)])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const lines = [head, ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())]
  const sb = st.sandbox
  if (sb) lines.push(`sandbox: ${sb.url} (admin ${sb.adminUrl}), ${sb.state}${sb.pid ? `, pid ${sb.pid}` : ''}, restarts ${sb.restarts}`)
  // The table may end up in a terminal log or a screenshot: the link with its token only comes from --web/--json.
  if (st.dashboard) lines.push(`dashboard: ${new URL(st.dashboard.url).origin}/ (ecom status --web prints the link)`)
  return lines.join('\n')
}

/** Hand the link to the desktop's opener; a machine without one still has the printed link. */
function openInBrowser(url: string): Promise<void> {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  return new Promise((resolve) => {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true })
    child.once('spawn', () => {
      child.unref()
      resolve()
    })
    child.once('error', () => {
      process.stderr.write(`could not run ${cmd}; open the link above yourself\n`)
      resolve()
    })
  })
}

export function register(program: Command): void {
  addAppSelection(
    program
      .command('status')
      .description('show the workers of a running app')
      .option('--json', 'print JSON (includes the dashboard link with its token)')
      .option('--web', "print the link to the app's live dashboard (with its token)")
      .option('--open', 'with --web: also open it in a browser')
  ).action(async (flags: { name?: string; port?: string; json?: boolean; web?: boolean; open?: boolean }) => {
    const app = await selectFromFlags(flags)
    const st = (await sendControl(app.path, 'status', 10_000)) as AppStatus
    if (flags.web || flags.open) {
      if (!st.dashboard) throw new DashboardDisabledError(`${st.name} was started with --no-dashboard; restart it without that flag to get a dashboard`)
      process.stdout.write(`${st.dashboard.url}\n`)
      if (flags.open) await openInBrowser(st.dashboard.url)
      return
    }
    process.stdout.write(flags.json ? `${JSON.stringify(st, null, 2)}\n` : `${formatStatus(st)}\n`)
  })
}
