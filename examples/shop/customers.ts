// Customer PII (name, email, address) is sealed with the Keyring before it reaches the database,
// each field bound to its customer id and field name (AAD), so a ciphertext copied to another row or
// column fails to decrypt. The master key: ECOM_MASTER_KEY, ECOM_MASTER_KEY_FILE, else a 0600 file in
// the data dir created on first start (atomically: workers starting together agree on one key).
import { randomBytes, randomUUID } from 'node:crypto'
import { linkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Keyring } from 'ecom/runtime'
import type { Transaction, OrmManager } from 'ecom/orm'
import { ShopBadRequestError } from './errors.js'

export interface CustomerInput {
  name: string
  email: string
  address: string
}

const FIELDS = ['name', 'email', 'address'] as const
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export async function openKeyring(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Keyring> {
  const path = join(dataDir, 'keyring.json')
  if (env.ECOM_MASTER_KEY || env.ECOM_MASTER_KEY_FILE) return Keyring.open({ path })
  return Keyring.open({ path, masterKeyFile: ensureMasterKeyFile(dataDir) })
}

/** Creates `<dataDir>/master.key` (0600) unless it exists; a link(2) makes the creation atomic. */
export function ensureMasterKeyFile(dataDir: string): string {
  const file = join(dataDir, 'master.key')
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    unlinkSync(tmp)
  }
  return file
}

export function validateCustomer(v: unknown): CustomerInput {
  const problems: string[] = []
  const o = (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}) as Record<string, unknown>
  if (o !== v) problems.push('customer: expected an object with name, email and address')
  for (const f of FIELDS) {
    const x = o[f]
    if (typeof x !== 'string' || !x.trim()) problems.push(`customer.${f}: expected a non-empty string`)
    else if (x.length > 500) problems.push(`customer.${f}: at most 500 characters`)
  }
  if (typeof o.email === 'string' && o.email.trim() && !EMAIL.test(o.email.trim())) problems.push('customer.email: expected an email address')
  if (problems.length) throw new ShopBadRequestError(problems.join('; '), { details: { problems } })
  return { name: (o.name as string).trim(), email: (o.email as string).trim(), address: (o.address as string).trim() }
}

export class Customers {
  constructor(readonly keyring: Keyring) {}

  /** Stores a customer with every PII field encrypted; returns its id. */
  async create(tx: Transaction, c: CustomerInput): Promise<string> {
    const id = randomUUID()
    await tx.repo('Customer').create({
      id,
      nameEnc: this.#seal(id, 'name', c.name),
      emailEnc: this.#seal(id, 'email', c.email),
      addressEnc: this.#seal(id, 'address', c.address),
    })
    return id
  }

  async read(orm: OrmManager, id: string): Promise<CustomerInput | undefined> {
    const row = await orm.repo('Customer').findById(id)
    if (!row) return undefined
    return {
      name: this.#open(id, 'name', row.nameEnc as string),
      email: this.#open(id, 'email', row.emailEnc as string),
      address: this.#open(id, 'address', row.addressEnc as string),
    }
  }

  #seal(id: string, field: string, value: string): string {
    return this.keyring.encrypt(value, `customer:${id}:${field}`).toString('base64url')
  }

  #open(id: string, field: string, sealed: string): string {
    return this.keyring.decrypt(Buffer.from(sealed, 'base64url'), `customer:${id}:${field}`).toString('utf8')
  }
}
