'use strict';
// Loads a bundle that scripts/bundle.mjs made (dist/ccin-tally.cjs: the command and every library
// it uses, in one CommonJS file) with V8's code cache beside it (FILE.cache), so that the command
// starts without compiling again what it compiled when it was built.
//
// The cache is taken only for the very bytes it was made from: it begins with the SHA-256 of the
// bundle and this Node's version, and V8 itself checks its version and flags but, of the source,
// only its length. Any other cache (another build, another Node, a damaged file) is left unused
// and the bundle compiled afresh: the cache makes a start faster, never different.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { Script, constants } = require('node:vm');
const Module = require('node:module');

/** What a cache for these bundle bytes begins with. */
function cacheKey(source) {
  return createHash('sha256').update(source).update(`\0${process.version}\0${process.arch}`).digest();
}

/** The V8 data of the cache at `path` when it was made for `source`, else undefined. */
function cachedDataFor(path, source) {
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  const key = cacheKey(source);
  return bytes.length > key.length && bytes.subarray(0, key.length).equals(key) ? bytes.subarray(key.length) : undefined;
}

/**
 * Runs the bundle at `file` as a CommonJS module. Returns its exports; `cached`, whether a cache made
 * for it was taken; and `makeCache()`, the cache of what has been compiled so far, to be written to
 * FILE.cache.
 */
function loadBundle(file) {
  // With source maps on (NODE_OPTIONS=--enable-source-maps, to read a stack trace against src/),
  // the bundle is loaded as any module is, without the cache: Node maps the stacks of what it loads.
  if (process.sourceMapsEnabled === true) {
    return {
      exports: Module.createRequire(file)(file),
      cached: false,
      makeCache: () => {
        throw new Error('no code cache is made with source maps on');
      },
    };
  }
  const bytes = readFileSync(file);
  const cachedData = cachedDataFor(`${file}.cache`, bytes);
  const script = new Script(Module.wrap(bytes.toString('utf8')), {
    filename: file,
    cachedData,
    // A built-in module the bundle imports on demand (import('node:…')) is loaded as it would be anywhere.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cached: cachedData !== undefined && !script.cachedDataRejected,
    makeCache: () => Buffer.concat([cacheKey(bytes), script.createCachedData()]),
  };
}

module.exports = { loadBundle };
