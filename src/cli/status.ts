import type { Command } from 'commander'
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
  return [head, ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())].join('\n')
}

export function register(program: Command): void {
  addAppSelection(
    program.command('status').description('show the workers of a running app').option('--json', 'print JSON')
  ).action(async (flags: { name?: string; port?: string; json?: boolean }) => {
    const app = await selectFromFlags(flags)
    const st = (await sendControl(app.path, 'status', 10_000)) as AppStatus
    process.stdout.write(flags.json ? `${JSON.stringify(st, null, 2)}\n` : `${formatStatus(st)}\n`)
  })
}
