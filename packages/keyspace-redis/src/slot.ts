/** Redis Cluster's key slot: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384. */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(b: Buffer, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b[i]!) & 0xff]!;
  return crc;
}

/** The slot of a key (its bytes; a string key is read as latin1, one char per byte, as respai's keys are). */
export function keySlot(key: Buffer | string): number {
  const b = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
  const open = b.indexOf(0x7b); // {
  if (open >= 0) {
    const close = b.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(b, open + 1, close) & 16383;
  }
  return crc16(b, 0, b.length) & 16383;
}

/** True when every key hashes to one slot (no keys: true). */
export function sameSlot(keys: Iterable<Buffer | string>): boolean {
  let slot = -1;
  for (const k of keys) {
    const s = keySlot(k);
    if (slot === -1) slot = s;
    else if (s !== slot) return false;
  }
  return true;
}
