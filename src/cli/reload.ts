import type { Command } from 'commander'
import { sendControl } from '../runtime/supervisor/control-socket.js'
import { addAppSelection, selectFromFlags } from './app-select.js'

export function register(program: Command): void {
  addAppSelection(
    program.command('reload').description('replace the workers of a running app one by one, without dropping a request')
  ).action(async (flags: { name?: string; port?: string }) => {
    const app = await selectFromFlags(flags)
    const r = (await sendControl(app.path, 'reload')) as { replaced: number }
    process.stdout.write(`${app.name}: reloaded ${r.replaced} worker${r.replaced === 1 ? '' : 's'}\n`)
  })
}
