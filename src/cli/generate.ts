import type { Command } from 'commander'
import { generateApp, generateModule, type GenerateResult } from '../runtime/generate/generator.js'
import { VERSION } from '../version.js'

function print(result: GenerateResult, what: string): void {
  const verb = result.dryRun ? 'would write' : 'wrote'
  const lines = result.files.map((f) => `  ${f.action.padEnd(9)} ${f.rel}`)
  process.stdout.write(`${result.dryRun ? '[dry run] ' : ''}${what} ${result.name.kebab}: ${verb} ${result.files.length} file(s) in ${result.root}\n${lines.join('\n')}\n`)
}

export function register(program: Command): void {
  const generate = program.command('generate').alias('g').description('generate a module into an app, or a new app')

  generate
    .command('module <name>')
    .description('write a module (model, repository, service, routes, validation, test) and register it in src/modules/index.ts')
    .option('--dir <path>', 'the app folder', process.cwd())
    .option('--dry-run', 'list the files, write nothing', false)
    .option('--force', 'overwrite existing files', false)
    .action(async (name: string, o: { dir: string; dryRun: boolean; force: boolean }) => {
      const result = await generateModule(name, { dir: o.dir, dryRun: o.dryRun, force: o.force })
      print(result, 'module')
      if (!result.dryRun) process.stdout.write(`next: restart the app; the routes are served under /${result.name.kebab}\n`)
    })

  generate
    .command('app <name>')
    .description('write a new app: package.json, config, server entry, one module and tests')
    .option('--dir <path>', 'the folder to create the app in', process.cwd())
    .option('--module <name>', 'the first module', 'products')
    .option('--ecom <spec>', 'the ecom dependency spec written to package.json (e.g. file:../ecom)')
    .option('--dry-run', 'list the files, write nothing', false)
    .option('--force', 'overwrite existing files', false)
    .action(async (name: string, o: { dir: string; module: string; ecom?: string; dryRun: boolean; force: boolean }) => {
      const result = await generateApp(name, {
        dir: o.dir,
        module: o.module,
        ecomSpec: o.ecom,
        dryRun: o.dryRun,
        force: o.force,
        version: VERSION,
      })
      print(result, 'app')
      if (!result.dryRun) process.stdout.write(`next: cd ${result.name.kebab} && npm install && npm test && npx ecom start src/server.ts\n`)
    })
}
