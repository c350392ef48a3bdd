import type { Command } from 'commander'
import { InvalidOptionError } from '../errors.js'
import { selectApp, type RunningApp } from '../runtime/supervisor/control-socket.js'

/** `--name` / `--port`, shared by status, reload and stop. */
export function addAppSelection(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'the app to address (when several run)')
    .option('-p, --port <port>', 'the app listening on this port (when several run)')
}

export function selectFromFlags(flags: { name?: string; port?: string }): Promise<RunningApp> {
  let port: number | undefined
  if (flags.port !== undefined) {
    port = Number(flags.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidOptionError(`options.port must be an integer from 0 to 65535, got "${flags.port}"`)
    }
  }
  return selectApp({ name: flags.name, port })
}
