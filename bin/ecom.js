#!/usr/bin/env node
// Kept tiny on purpose: everything else lives in dist/ so start-up cost is one cached import.
import module from 'node:module'

module.enableCompileCache?.()
const { main } = await import('../dist/cli/index.js')
await main(process.argv)
