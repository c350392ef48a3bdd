// The `ecom` entry: errors and the version shared by every area. Area APIs live in their own
// entries (`ecom/runtime`, `ecom/payments`, `ecom/orm`, `ecom/native`).
export {
  EcomError,
  EcomUsageError,
  InvalidOptionError,
  InvalidConfigError,
  MissingDependencyError,
  isEcomError,
} from '../errors.js'
export { VERSION } from '../version.js'
