export { RespaiClient, DEFAULT_MODEL_CHUNK_SIZE } from './client.js';
export type {
  Backend,
  ConfigOptions,
  Device,
  ModelExecuteOptions,
  ModelInfo,
  ModelStoreOptions,
  RunInfo,
  ScriptArgs,
  ScriptExecuteOptions,
  ScriptInfo,
  ScriptStoreOptions,
  TensorSetOptions,
} from './client.js';
export { Dag, type DagOptions } from './dag.js';
export { DTYPES, isDType, type DType, type NumericArray, type Tensor, type TensorDataMap, type TensorInput } from './dtype.js';
export { RespaiError } from './errors.js';
export { decodeTensor, encodeTensor, type EncodedTensor } from './tensor.js';
export type {
  Arg,
  Connection,
  IORedisClusterLike,
  IORedisLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  RawReply,
  Route,
  Transport,
} from './transport.js';
