/**
 * Core's backend conformance suite on a backend loaded from a module: the one named by
 * MATS_BENCH_BACKEND (`npm run bench -- --backend SPEC` runs this file for each SPEC before it
 * times anything), or by default the README's example backend wrapping ml-matrix, which
 * `npm test` therefore keeps honest.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeBackendConformance } from '@mats/core/testing';
import type { Backend, DType } from '@mats/core';

const spec = process.env.MATS_BENCH_BACKEND;
const url = spec === undefined ? new URL('../src/example-backends/ml-matrix-backend.js', import.meta.url).href : spec.startsWith('.') || path.isAbsolute(spec) ? pathToFileURL(path.resolve(spec)).href : spec;
const module = (await import(url)) as { createBackend?: (dtype: DType) => Backend; default?: (dtype: DType) => Backend; dtypes?: readonly DType[] };
const create = module.createBackend ?? module.default;
if (typeof create !== 'function') throw new TypeError(`${spec ?? url}: exports no createBackend(dtype) and no default factory function`);
const dtypes = module.dtypes ?? ['float64', 'float32'];

describeBackendConformance(spec ?? 'example ml-matrix backend', { create: (dtype) => create(dtype), dtypes });
