// POST /catalog/import: an NDJSON body streamed through the native LineSplitter, validated line by
// line, then written in one transaction (validate-then-write: a bad line means nothing is written).
// With `Accept: application/x-ndjson` the answer streams progress lines as the import goes:
//   {"phase":"parsing","lines":1200} … {"phase":"writing","products":1200} … {"phase":"done",…}
// otherwise one JSON answer: 201 with the counts, or 422 ECOM_ERR_SHOP_IMPORT naming each bad line.
import type { Readable } from 'node:stream'
import type { OrmManager } from 'ecom/orm'
import { bumpCatalogVersion, parseCatalog, writeProducts, type LineProblem } from './catalog.js'
import { ShopImportError } from './errors.js'
import { sendJson, type Ctx } from './http.js'
import type { ProductSearch } from './search.js'

export interface ImportResult {
  lines: number
  created: number
  updated: number
  catalogVersion: number | undefined
}

export function importHandler(orm: OrmManager, search: ProductSearch) {
  return async ({ req, res }: Ctx): Promise<void> => {
    const streaming = /application\/x-ndjson/.test(String(req.headers.accept ?? ''))
    const progress = (line: object): void => {
      if (streaming) res.write(JSON.stringify(line) + '\n')
    }
    if (streaming) res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' })
    try {
      const result = await runImport(orm, search, req, progress)
      if (streaming) res.end(JSON.stringify({ phase: 'done', ...result }) + '\n')
      else sendJson(res, 201, result)
    } catch (err) {
      if (!streaming) throw err
      const e = err as ShopImportError
      res.end(JSON.stringify({ phase: 'failed', error: { code: e.code ?? 'ECOM_ERR_INTERNAL', message: e.message, details: e.details } }) + '\n')
    }
  }
}

export async function runImport(
  orm: OrmManager,
  search: ProductSearch,
  body: Readable,
  progress: (line: object) => void = () => {},
): Promise<ImportResult> {
  let reported = 0
  let parsed
  try {
    parsed = await parseCatalog(body, (lines) => {
      // At most one progress line per 500 input lines (the splitter hands over one batch per chunk).
      if (lines - reported >= 500) progress({ phase: 'parsing', lines: (reported = lines) })
    })
  } catch (err) {
    const code = (err as { code?: string }).code
    throw new ShopImportError(`the upload could not be read: ${(err as Error).message}`, { cause: err, details: { code } })
  }
  progress({ phase: 'parsed', lines: parsed.lines, products: parsed.products.length, problems: parsed.problems.length })
  if (parsed.problems.length) throw refused(parsed.problems)
  if (!parsed.products.length) throw refused([{ line: 0, code: 'ECOM_ERR_SHOP_IMPORT_EMPTY', message: 'the upload holds no products' }])
  progress({ phase: 'writing', products: parsed.products.length })
  const { created, updated } = await orm.transaction(async (tx) => {
    await bumpCatalogVersion(tx)
    return writeProducts(tx, parsed.products)
  })
  progress({ phase: 'indexing' })
  const built = await search.rebuild()
  return { lines: parsed.lines, created, updated, catalogVersion: built.version }
}

function refused(problems: LineProblem[]): ShopImportError {
  const first = problems[0]!
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''
  return new ShopImportError(`nothing was imported: ${first.message}${more}`, { details: { problems } })
}
