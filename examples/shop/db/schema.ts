// The shop's tables, defined once for every database (SQLite by default, PostgreSQL by env), plus the
// payments ledger's two models so the router records through the same ORM layer and database.
import { defineSchema } from 'ecom/orm'
import { ledgerModels } from 'ecom/payments'

export const schema = defineSchema({
  models: {
    Product: {
      table: 'shop_products',
      fields: {
        id: { type: 'int', primaryKey: true },
        sku: { type: 'string', length: 64, unique: true },
        title: { type: 'string' },
        brand: { type: 'string', length: 120 },
        category: { type: 'string', length: 120 },
        description: { type: 'text' },
        priceCents: { type: 'money' },
        currency: { type: 'string', length: 3 },
        tags: { type: 'json' },
        updatedAt: { type: 'timestamp', default: 'now' },
      },
    },
    // Key/value facts shared by every worker: `seeded` (written once, in the seed transaction) and
    // `catalog_version` (bumped by every import; searches compare it to rebuild their indexes).
    ShopMeta: {
      table: 'shop_meta',
      fields: {
        key: { type: 'string', length: 64, primaryKey: true },
        value: { type: 'int', default: 0 },
      },
    },
    // Name, email and address are Keyring ciphertexts (base64url), bound to the customer id.
    Customer: {
      table: 'shop_customers',
      fields: {
        id: { type: 'uuid', primaryKey: true, default: 'random' },
        nameEnc: { type: 'text' },
        emailEnc: { type: 'text' },
        addressEnc: { type: 'text' },
        createdAt: { type: 'timestamp', default: 'now' },
      },
    },
    Order: {
      table: 'shop_orders',
      fields: {
        id: { type: 'uuid', primaryKey: true, default: 'random' },
        customerId: { type: 'uuid', references: { model: 'Customer' } },
        // pending → paid | processing | failed; paid → refunded | partially_refunded | voided (webhooks)
        state: { type: 'string', length: 32 },
        items: { type: 'json' },
        totalCents: { type: 'money' },
        currency: { type: 'string', length: 3 },
        provider: { type: 'string', length: 32, nullable: true },
        providerReference: { type: 'string', nullable: true },
        paymentCode: { type: 'string', length: 64, nullable: true },
        refundedCents: { type: 'money', default: 0 },
        idempotencyKey: { type: 'string', nullable: true, unique: true },
        createdAt: { type: 'timestamp', default: 'now' },
        updatedAt: { type: 'timestamp', default: 'now' },
      },
      indexes: [{ fields: ['providerReference'] }],
    },
    // Webhook events already applied (providers deliver at least once).
    WebhookEvent: {
      table: 'shop_webhook_events',
      fields: {
        id: { type: 'string', primaryKey: true },
        provider: { type: 'string', length: 32 },
        type: { type: 'string', length: 64 },
        orderId: { type: 'uuid', nullable: true },
        receivedAt: { type: 'timestamp', default: 'now' },
      },
    },
    // Outbound order notifications: `pending` until delivered (or `stored` when no URL is configured).
    Notification: {
      table: 'shop_notifications',
      fields: {
        id: { type: 'int', primaryKey: true },
        orderId: { type: 'uuid', references: { model: 'Order' } },
        event: { type: 'string', length: 64 },
        payload: { type: 'json' },
        state: { type: 'string', length: 32 },
        attempts: { type: 'int', default: 0 },
        lastError: { type: 'text', nullable: true },
        createdAt: { type: 'timestamp', default: 'now' },
      },
      indexes: [{ fields: ['orderId'] }],
    },
    ...ledgerModels({ prefix: 'shop_' }),
  },
})

export type ProductRow = {
  id: number
  sku: string
  title: string
  brand: string
  category: string
  description: string
  priceCents: number
  currency: string
  tags: string[]
}
