/** `@respai/backend-tf/testing`: build TensorFlow GraphDefs from code (test fixtures, benchmarks). */
export * from './graphdef-writer.js';
export * from './models.js';
