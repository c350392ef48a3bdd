import type { AppModule } from '../../types.js'
import { MODEL, model } from './model.js'
import { __modulePascal__Repository } from './repository.js'
import { __moduleCamel__Routes } from './routes.js'
import { __modulePascal__Service } from './service.js'

/** The __moduleTitle__ module as the app registers it in src/modules/index.ts. */
const __moduleCamel__Module: AppModule = {
  name: '__moduleKebab__',
  models: { [MODEL]: model },
  routes: (db) => __moduleCamel__Routes(new __modulePascal__Service(new __modulePascal__Repository(db))),
}

export default __moduleCamel__Module
