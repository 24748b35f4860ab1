/**
 * Mutators for TorchScript archives (the zip torch.jit.save writes): damage at the byte level and,
 * to get past the zip reader's CRC checks into libtorch's pickle and TorchScript parsers, at the
 * entry level with the archive rewritten around valid CRCs: swapped, duplicated, dropped and renamed
 * entries, damaged pickles (data.pkl, constants.pkl, the debug pickles), damaged code, damaged
 * tensor records. Test fixtures only.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { Rng, byteMutators, mutateBytes } from '@respai/core/fuzz';

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}

/** The entries of a zip (stored or deflated), in central directory order. */
export function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const csize = zip.readUInt32LE(at + 20);
    const nlen = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nlen);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + csize);
    entries.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    at += 46 + nlen + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/**
 * A zip of stored entries with valid CRCs, each entry's data aligned to 64 bytes as torch writes
 * it (an extra field pads the local header).
 */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const pad = (64 - ((offset + 30 + n.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // 'FB', torch's padding field
    extra.writeUInt16LE(pad, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    parts.push(local, n, extra, data);
    centrals.push(central, n);
    offset += 30 + n.length + extra.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/** Pickle opcodes (protocols 0 to 5). */
const OPCODES = Buffer.from('(.012FIJKLMNPQRSTUVXabcdeghijlmopqrstu}])GBC', 'latin1');
const OPCODES_HI = [0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95];

/** Short opcode sequences that stress an unpickler: huge lengths, bad memo indices, deep nesting. */
function pickleGadget(r: Rng): Buffer {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return b;
  };
  switch (r.int(9)) {
    case 0: // BINUNICODE with a length past the end
      return Buffer.concat([Buffer.from('X'), u32(r.pick([0x7fffffff, 0xffffffff, 1 << 20]))]);
    case 1: // BINGET / LONG_BINGET of a memo slot never PUT
      return r.chance(0.5) ? Buffer.from([0x68, r.int(256)]) : Buffer.concat([Buffer.from('j'), u32(r.int(2 ** 32))]);
    case 2: // REDUCE / BUILD / SETITEMS with nothing fitting on the stack
      return Buffer.from(r.pick(['R', 'b', 'u', 'e', 's', 'a', 't', '1', '0', '2']), 'latin1');
    case 3: {
      // lists nested deep (unpickled iteratively, freed recursively)
      const n = 1000 + r.int(200_000);
      return Buffer.concat([Buffer.alloc(n, ']'), Buffer.alloc(n - 1, 'a')]);
    }
    case 4: // many marks
      return Buffer.alloc(1000 + r.int(100000), '(');
    case 5: // BINPERSID of something that is not a storage tuple
      return Buffer.from(r.pick([')Q', 'NQ', 'K\x05Q', '(X\x07\x00\x00\x00storageX\x01\x00\x00\x000tQ']), 'latin1');
    case 6: // GLOBAL of a class the archive does not have, or of a torch builtin
      return Buffer.from(
        r.pick(['c__torch__\nNoSuch\n', 'ctorch._utils\n_rebuild_tensor_v2\n', 'c__builtin__\nset\n', 'ctorch\nFloatStorage\n', 'c\n\n']),
        'latin1',
      );
    case 7: // LONG1 / LONG4 of odd lengths, BININT extremes
      return r.chance(0.5) ? Buffer.from([0x8a, r.int(256), ...r.bytes(r.int(9))]) : Buffer.concat([Buffer.from('J'), u32(r.pick([0, 0x7fffffff, 0x80000000, 0xffffffff]))]);
    default: // a random opcode
      return Buffer.from([r.chance(0.7) ? r.pick([...OPCODES]) : r.pick(OPCODES_HI)]);
  }
}

/** Damages a pickle: opcodes replaced, gadgets inserted, the STOP dropped, cuts. */
export function mutatePickle(p: Buffer, r: Rng): Buffer {
  switch (r.int(6)) {
    case 0: {
      const out = Buffer.from(p);
      for (let n = 1 + r.int(3); n > 0 && out.length > 0; n--) out[r.int(out.length)] = r.chance(0.7) ? r.pick([...OPCODES]) : r.pick(OPCODES_HI);
      return out;
    }
    case 1:
    case 2: {
      const at = r.int(p.length + 1);
      return Buffer.concat([p.subarray(0, at), pickleGadget(r), p.subarray(at)]);
    }
    case 3:
      return p.length > 0 && p[p.length - 1] === 0x2e ? Buffer.from(p.subarray(0, p.length - 1)) : byteMutators.truncate(p, r);
    case 4:
      return byteMutators.truncate(p, r);
    default:
      return mutateBytes(p, r).bytes;
  }
}

/** Damages TorchScript source (the archive's code/): lines dropped or doubled, nesting, huge tokens. */
export function mutateCode(code: Buffer, r: Rng): Buffer {
  const lines = code.toString('utf8').split('\n');
  const i = r.int(lines.length);
  switch (r.int(6)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[r.int(lines.length)]!);
      break;
    case 2: {
      const d = r.pick([50, 1000, 100_000]);
      lines.splice(i, 0, `    _z = ${'('.repeat(d)}1${')'.repeat(d)}`);
      break;
    }
    case 3:
      lines[i] = lines[i]!.replace(/\b\d+\b/, '9'.repeat(r.pick([20, 400, 100_000])));
      break;
    case 4:
      lines[i] = lines[i]!.replace(/[A-Za-z_]\w*/, (m) => (r.chance(0.5) ? `${m}${'_'.repeat(r.pick([1, 100_000]))}` : m.split('').reverse().join('')));
      break;
    default:
      return mutateBytes(code, r).bytes;
  }
  return Buffer.from(lines.join('\n'));
}

export type ArchiveMutation =
  | 'bytes'
  | 'truncate'
  | 'swapEntries'
  | 'duplicateEntry'
  | 'dropEntry'
  | 'renameEntry'
  | 'pickle'
  | 'code'
  | 'record'
  | 'version';

export const ARCHIVE_MUTATIONS: readonly ArchiveMutation[] = [
  'bytes',
  'truncate',
  'swapEntries',
  'duplicateEntry',
  'dropEntry',
  'renameEntry',
  'pickle',
  'pickle',
  'code',
  'record',
  'version',
];

/** One mutant of `archive` (a valid TorchScript zip) by `how`. */
export function mutateArchive(archive: Buffer, how: ArchiveMutation, r: Rng): Buffer {
  if (how === 'bytes') return mutateBytes(archive, r).bytes;
  if (how === 'truncate') return byteMutators.truncate(archive, r);
  const entries = readZip(archive).map((e) => ({ ...e }));
  const pick = (pred: (e: ZipEntry) => boolean): number => {
    const idx = entries.map((e, i) => (pred(e) ? i : -1)).filter((i) => i >= 0);
    return idx.length === 0 ? r.int(entries.length) : r.pick(idx);
  };
  switch (how) {
    case 'swapEntries': {
      const a = r.int(entries.length);
      const b = r.int(entries.length);
      const da = entries[a]!.data;
      entries[a] = { name: entries[a]!.name, data: entries[b]!.data };
      entries[b] = { name: entries[b]!.name, data: da };
      break;
    }
    case 'duplicateEntry': {
      const a = r.int(entries.length);
      const copy = r.chance(0.5) ? entries[a]! : { name: entries[a]!.name, data: entries[r.int(entries.length)]!.data };
      entries.splice(r.int(entries.length + 1), 0, copy);
      break;
    }
    case 'dropEntry':
      entries.splice(r.int(entries.length), 1);
      break;
    case 'renameEntry': {
      const a = r.int(entries.length);
      const name = Buffer.from(entries[a]!.name);
      name[r.int(name.length)] = r.pick([0x2f, 0x2e, 0x00, 0x41, 0x5f]);
      entries[a] = { name: name.toString('latin1'), data: entries[a]!.data };
      break;
    }
    case 'pickle': {
      const a = pick((e) => e.name.endsWith('.pkl'));
      entries[a] = { name: entries[a]!.name, data: mutatePickle(entries[a]!.data, r) };
      break;
    }
    case 'code': {
      const a = pick((e) => e.name.includes('/code/') && e.name.endsWith('.py'));
      entries[a] = { name: entries[a]!.name, data: mutateCode(entries[a]!.data, r) };
      break;
    }
    case 'record': {
      // Tensor storages (data/N): cut short, grown, emptied.
      const a = pick((e) => /\/data\/\d+$/.test(e.name));
      const d = entries[a]!.data;
      entries[a] = { name: entries[a]!.name, data: r.chance(0.5) ? Buffer.from(d.subarray(0, r.int(d.length + 1))) : Buffer.concat([d, r.bytes(r.int(64))]) };
      break;
    }
    case 'version': {
      const a = pick((e) => e.name.endsWith('/version'));
      entries[a] = { name: entries[a]!.name, data: Buffer.from(r.pick(['0\n', '-1\n', '4294967296\n', '', 'x\n', '99999999999999999999\n', '7'])) };
      break;
    }
  }
  return writeZip(entries);
}

/** The `index`-th mutant of one of `bases` for `seed`: reproducible on its own. */
export function archiveMutant(bases: readonly Buffer[], seed: number, index: number): { blob: Buffer; how: ArchiveMutation; base: number } {
  const r = new Rng((seed * 0x9e3779b1 + index) >>> 0);
  const base = r.int(bases.length);
  const how = r.pick(ARCHIVE_MUTATIONS);
  let blob = mutateArchive(bases[base]!, how, r);
  // Now and then a second, byte-level layer.
  if (how !== 'bytes' && how !== 'truncate' && r.chance(0.15)) blob = mutateBytes(blob, r).bytes;
  return { blob, how, base };
}
