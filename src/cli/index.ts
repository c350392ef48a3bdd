import { Command, CommanderError } from 'commander'
import { EcomError } from '../errors.js'
import { VERSION } from '../version.js'

/**
 * Every command module registers itself here. Commands throw; only `main` exits, so that the exit
 * status policy (2 usage, 1 failure) lives in one place.
 */
type Register = (program: Command) => void

const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  // command modules are appended here, one line each
  generate: () => import('./generate.js'),
  deploy: () => import('./deploy.js'),
  doctor: () => import('./doctor.js'),
  start: () => import('./start.js'),
  status: () => import('./status.js'),
  reload: () => import('./reload.js'),
  stop: () => import('./stop.js'),
  payments: () => import('./payments.js'),
  orm: () => import('./orm.js'),
}

/**
 * The command named on the line is the only one loaded (start-up time is part of `ecom start`'s time
 * to first 200); anything else (no command, `help`, a typo that wants a suggestion) loads them all.
 */
async function loadCommands(argv: readonly string[]): Promise<Register[]> {
  const named = argv.slice(2).find((a) => !a.startsWith('-'))
  const loaders = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS)
  const modules = await Promise.all(loaders.map((load) => load()))
  return modules.map((m) => m.register)
}

export function buildProgram(registers: Register[]): Command {
  const program = new Command('ecom')
    .description('Runtime toolkit and CLI for Node.js commerce back-ends')
    .version(VERSION, '-V, --version', 'print the ecom version')
    .option('--verbose', 'print stacks and debug output')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
  for (const register of registers) register(program)
  for (const cmd of program.commands) cmd.version(VERSION, '-V, --version', 'print the ecom version')
  return program
}

function wantsVerbose(argv: readonly string[]): boolean {
  return argv.includes('--verbose') || process.env.ECOM_VERBOSE === '1'
}

/** Print one line for a failure and return the exit status it maps to. */
export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0 // --help and --version end this way
    process.stderr.write(`ecom: ${err.message.replace(/^error: /, '')}\n`)
    return 2
  }
  if (err instanceof EcomError) {
    process.stderr.write(`ecom: ${err.message} (${err.code})\n`)
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`)
    return err.exitCode
  }
  const e = err instanceof Error ? err : new Error(String(err))
  process.stderr.write(
    `ecom: unexpected error: ${e.message}\n` +
      (verbose ? `${e.stack ?? ''}\n` : '') +
      'This is a bug in ecom. Please report it with the output of the same command run with --verbose.\n'
  )
  return 1
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const verbose = wantsVerbose(argv)
  try {
    const program = buildProgram(await loadCommands(argv))
    await program.parseAsync(argv)
  } catch (err) {
    const status = reportError(err, verbose)
    process.exit(status)
  }
}
