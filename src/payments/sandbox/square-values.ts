/**
 * The notification URL the Square emulator signs together with each webhook body when the sandbox host
 * does not say where webhooks go (Square signs URL + body). Verify sandbox Square webhooks with it.
 */
export const SQUARE_SANDBOX_NOTIFICATION_URL = 'http://127.0.0.1/ecom/webhooks/square'
