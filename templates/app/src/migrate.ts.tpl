// `npm run migrate`: apply pending migrations, then exit.
import { openDatabase } from './db.js'

const db = await openDatabase()
await db.close()
console.log('migrations applied')
