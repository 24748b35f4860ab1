import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
try {
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  console.log('ready', ok, tf.getBackend(), wasm.getThreadsCount());
  const a = tf.randomNormal([512,512]);
  let t = Date.now(); for (let i=0;i<10;i++) tf.matMul(a,a).dataSync(); console.log('mm', (Date.now()-t)/10);
} catch (e) { console.log('ERR', e?.message ?? e); }
setTimeout(()=>process.exit(0), 2000);
