// The one benchmark runner: `npm run bench [area ...]`. Runs each area's suite, prints one markdown table
// per comparison group (sorted best first, with the ratio of ecom to each peer measured in the same run),
// and writes the whole report to docs/benchmarks.md.
import { writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import type { BenchRow, BenchSuite } from './util.js'

const suites: Array<() => Promise<{ suite: BenchSuite }>> = [
  // area suites are appended here, one line each
  () => import('./start.js'),
  () => import('./runtime.js'),
  () => import('./payments.js'),
  () => import('./orm.js'),
  () => import('./native.js'),
]

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toPrecision(3)
}

export function renderGroup(group: string, rows: BenchRow[]): string {
  const better = rows[0]?.higherIsBetter ?? true
  const sorted = [...rows].sort((a, b) => (better ? b.value - a.value : a.value - b.value))
  const ours = rows.find((r) => r.ours)
  const lines = [`### ${group}`, '', '| | value | ecom vs this | target | note |', '| --- | ---: | ---: | --- | --- |']
  for (const r of sorted) {
    let ratio = ''
    if (ours && r !== ours) {
      // Ratios read "ecom is N x this peer" in the direction where bigger is better. A zero on either
      // side (no failed requests, say) has no ratio: the values speak for themselves.
      const num = better ? ours.value : r.value
      const den = better ? r.value : ours.value
      ratio = den === 0 || num === 0 ? (num === den ? 'equal' : '') : `${(num / den).toFixed(2)}x`
    }
    const name = r.ours ? `**${r.name}**` : r.name
    lines.push(`| ${name} | ${fmt(r.value)} ${r.unit} | ${ratio} | ${r.target ?? ''} | ${r.note ?? ''} |`)
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2)
  const out: string[] = []
  for (const load of suites) {
    const { suite } = await load()
    if (wanted.length > 0 && !wanted.includes(suite.area)) continue
    process.stderr.write(`bench: ${suite.area} ...\n`)
    const rows = await suite.run()
    const groups = new Map<string, BenchRow[]>()
    for (const r of rows) groups.set(r.group, [...(groups.get(r.group) ?? []), r])
    out.push(`## ${suite.area}`, '')
    for (const [group, grows] of groups) out.push(renderGroup(group, grows), '')
  }
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench`. Every ratio compares ecom with a peer package measured in the same run on the',
    'same machine; absolute numbers depend on the machine, ratios much less so.',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, Node ${process.version}. Run: ${new Date().toISOString()}.`,
    '',
  ]
  const report = [...header, ...out].join('\n')
  process.stdout.write(`${report}\n`)
  if (wanted.length === 0) writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), `${report}\n`)
}

await main()
