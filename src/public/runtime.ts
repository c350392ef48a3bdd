// The `ecom/runtime` entry. Named exports only, one line per public piece.
export { VERSION } from '../version.js'
