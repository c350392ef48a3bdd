// The ORM conformance suite on sqlite: every adapter, the same named cases (see orm-suite.ts).
import { ormConformance } from './orm-suite.js'

ormConformance('sqlite')
