import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BACKEND_API_VERSION, BACKEND_NAMES, type Backend, type BackendName, type BackendSettings } from './spi.js';

/** The package each backend loads from when no LOADBACKEND named another. */
export const DEFAULT_BACKEND_PACKAGES: { readonly [K in BackendName]: string } = {
  ONNX: '@respai/backend-onnx',
  TORCH: '@respai/backend-torch',
  TF: '@respai/backend-tf',
  TFLITE: '@respai/backend-tflite',
};

/** Why a backend could not load; the reply stays the catalog's text, the reason goes to the log. */
export class BackendLoadError extends Error {}

export interface BackendRegistryOptions {
  /** BACKENDSPATH: relative LOADBACKEND paths and package names resolve from here. */
  backendsPath: () => string;
  settings: () => BackendSettings;
  /** Overrides of DEFAULT_BACKEND_PACKAGES (tests, embedders). */
  defaults?: Partial<Record<BackendName, string>>;
}

/**
 * The backends of one engine: loaded once each, explicitly (LOADBACKEND) or lazily on first use.
 * Concurrent requests for the same backend share one load; a failed load registers nothing.
 */
export class BackendRegistry {
  private readonly loaded = new Map<BackendName, Backend>();
  private readonly pending = new Map<BackendName, Promise<Backend>>();

  constructor(private readonly options: BackendRegistryOptions) {}

  /** The backend if it is loaded already (no loading). */
  peek(name: BackendName): Backend | undefined {
    return this.loaded.get(name);
  }

  /** Loaded backends in load order, for AI.INFO and INFO. */
  list(): Backend[] {
    return [...this.loaded.values()];
  }

  /**
   * AI.CONFIG LOADBACKEND: loads `name` from `path` (absolute, relative to BACKENDSPATH, or a
   * package name). Loading a backend that is loaded, or loading, is an error.
   */
  async load(name: BackendName, path: string): Promise<Backend> {
    if (this.loaded.has(name) || this.pending.has(name)) throw new BackendLoadError(`${name} is already loaded`);
    return this.track(name, path);
  }

  /** The backend for a model or script: loads the default package on first use. */
  async get(name: BackendName): Promise<Backend> {
    const loaded = this.loaded.get(name);
    if (loaded !== undefined) return loaded;
    return this.pending.get(name) ?? this.track(name, this.defaultPackage(name));
  }

  /** Registers a backend object directly (embedding the engine as a library, tests). */
  async register(backend: unknown, expected?: BackendName): Promise<Backend> {
    const b = checkBackend(backend, expected);
    if (this.loaded.has(b.name) || this.pending.has(b.name)) throw new BackendLoadError(`${b.name} is already loaded`);
    const p = this.initialise(b);
    this.pending.set(b.name, p);
    try {
      return await p;
    } finally {
      this.pending.delete(b.name);
    }
  }

  defaultPackage(name: BackendName): string {
    return this.options.defaults?.[name] ?? DEFAULT_BACKEND_PACKAGES[name];
  }

  private track(name: BackendName, path: string): Promise<Backend> {
    const p = (async () => {
      const entry = resolveBackend(path, this.options.backendsPath());
      let mod: { default?: unknown };
      try {
        mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
      } catch (e) {
        throw new BackendLoadError(`cannot import ${entry}: ${(e as Error).message}`);
      }
      return this.initialise(checkBackend(mod.default, name));
    })();
    this.pending.set(name, p);
    p.then(
      () => this.pending.delete(name),
      () => this.pending.delete(name),
    );
    return p;
  }

  private async initialise(b: Backend): Promise<Backend> {
    try {
      await b.init?.(this.options.settings());
    } catch (e) {
      throw new BackendLoadError(`${b.name} failed to initialise: ${(e as Error).message}`);
    }
    this.loaded.set(b.name, b);
    return b;
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.allSettled(all.map((b) => b.dispose?.()));
  }
}

/** Checks that `obj` is a backend this engine can use, naming what is wrong when it is not. */
export function checkBackend(obj: unknown, expected?: BackendName): Backend {
  const b = obj as Partial<Backend> | undefined;
  if (typeof b !== 'object' || b === null || typeof b.loadModel !== 'function' || typeof b.supportsDevice !== 'function') {
    throw new BackendLoadError('not a respai backend: its default export has no loadModel/supportsDevice');
  }
  if (b.apiVersion !== BACKEND_API_VERSION) {
    throw new BackendLoadError(`backend API version ${String(b.apiVersion)} is not supported (this server implements ${BACKEND_API_VERSION})`);
  }
  if (!BACKEND_NAMES.includes(b.name as BackendName)) throw new BackendLoadError(`unknown backend name ${String(b.name)}`);
  if (expected !== undefined && b.name !== expected) throw new BackendLoadError(`this is a ${b.name} backend, not ${expected}`);
  if (typeof b.version !== 'string') throw new BackendLoadError('backend has no version string');
  return b as Backend;
}

/** Resolves a LOADBACKEND path to the file to import. */
export function resolveBackend(path: string, backendsPath: string): string {
  const candidates = isAbsolute(path) ? [path] : [resolve(backendsPath, path)];
  for (const c of candidates) {
    if (existsSync(c)) return statSync(c).isDirectory() ? packageEntry(c) : c;
  }
  if (!isAbsolute(path) && !path.startsWith('.')) {
    // A package name: look it up in node_modules from BACKENDSPATH upwards, as Node would.
    for (let dir = resolve(backendsPath); ; dir = dirname(dir)) {
      const pkg = join(dir, 'node_modules', path);
      if (existsSync(join(pkg, 'package.json'))) return packageEntry(pkg);
      if (dirname(dir) === dir) break;
    }
  }
  throw new BackendLoadError(`${path} not found (BACKENDSPATH is ${backendsPath})`);
}

/** The ESM entry of a package directory: exports "." (import/default), then main, then index.js. */
function packageEntry(dir: string): string {
  let pkg: { exports?: unknown; main?: string };
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return join(dir, 'index.js');
  }
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      return pick(o['.']) ?? pick(o['import']) ?? pick(o['node']) ?? pick(o['default']);
    }
    return undefined;
  };
  return join(dir, pick(pkg.exports) ?? pkg.main ?? 'index.js');
}
