import type { ModelInput } from 'ecom/orm'

/** The __moduleTitle__ model: its fields, keys and indexes for the ORM layer. */
export const MODEL = '__modulePascal__'

export const model = __moduleModel__ satisfies ModelInput

export interface __modulePascal__Row {
  id: string
  name: string
  description: string | null
  quantity: number
  active: boolean
  createdAt: Date
}
