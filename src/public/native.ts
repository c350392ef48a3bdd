// The `ecom/native` entry: vector search, keyword search, hybrid product search and stream hot paths,
// on the C++ addon when it is built and on TypeScript otherwise (same API, same results).
export { nativeStatus, registerNativeMetric } from '../native/loader.js'
export type { Backend, NativeStatus } from '../native/loader.js'
export { VectorIndex, vectorIndexDefaults } from '../native/vector-index.js'
export type {
  ResolvedVectorIndexOptions,
  VectorBatchSearchOptions,
  VectorHit,
  VectorIndexOptions,
  VectorSearchOptions,
  VectorSpace,
} from '../native/vector-index.js'
export { KeywordIndex, keywordIndexDefaults } from '../native/keyword-index.js'
export type { KeywordDocument, KeywordHit, KeywordIndexOptions, KeywordSearchOptions } from '../native/keyword-index.js'
export { foldText, tokenize } from '../native/tokenizer.js'
export { hybridSearch } from '../native/hybrid.js'
export type { HybridHit, HybridQuery } from '../native/hybrid.js'
export { ChecksumStream, LineSplitter, crc32c, xxhash64 } from '../native/streams.js'
export type { ChecksumAlgorithm, ChecksumDigest, ChecksumStreamOptions, LineSplitterOptions } from '../native/streams.js'
export {
  DuplicateVectorIdError,
  LineTooLongError,
  NativeUnavailableError,
  NdjsonParseError,
  UnknownVectorIdError,
  VectorIndexBusyError,
  VectorIndexCorruptError,
  VectorIndexFormatError,
} from '../errors.js'
