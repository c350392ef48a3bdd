// The ORM conformance suite on postgres: every adapter, the same named cases (see orm-suite.ts).
import { ormConformance } from './orm-suite.js'

ormConformance('postgres')
