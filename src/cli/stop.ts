import type { Command } from 'commander'
import { sendControl } from '../runtime/supervisor/control-socket.js'
import { addAppSelection, selectFromFlags } from './app-select.js'

export function register(program: Command): void {
  addAppSelection(program.command('stop').description('drain and stop a running app')).action(
    async (flags: { name?: string; port?: string }) => {
      const app = await selectFromFlags(flags)
      await sendControl(app.path, 'stop')
      process.stdout.write(`${app.name}: stopped\n`)
    }
  )
}
