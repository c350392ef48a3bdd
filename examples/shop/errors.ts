// The shop's coded errors: EcomError subclasses (from the public `ecom` entry), one per condition,
// answered by http.ts as `{ error: { code, message, details } }` with the class's status code.
import { EcomError } from 'ecom'

export class ShopBadRequestError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_BAD_REQUEST'
  static override readonly defaultMessage = 'the request body is not valid'
  static override readonly statusCode = 400
}

export class ShopNotFoundError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_NOT_FOUND'
  static override readonly defaultMessage = 'no such resource'
  static override readonly statusCode = 404
}

export class ShopImportError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_IMPORT'
  static override readonly defaultMessage = 'the catalog import was refused; nothing was written'
  static override readonly statusCode = 422
}

export class ShopPaymentsUnavailableError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_PAYMENTS_UNCONFIGURED'
  static override readonly defaultMessage =
    'checkout needs a payment sandbox: set ECOM_SANDBOX_URL (or start with `ecom start examples/shop --sandbox`)'
  static override readonly statusCode = 503
}

export class ShopPaymentFailedError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_PAYMENT_FAILED'
  static override readonly defaultMessage = 'the payment was declined'
  static override readonly statusCode = 402
}

export class ShopIdempotencyConflictError extends EcomError {
  static override readonly code = 'ECOM_ERR_SHOP_IDEMPOTENCY_CONFLICT'
  static override readonly defaultMessage = 'this Idempotency-Key was used for a different order'
  static override readonly statusCode = 409
}
