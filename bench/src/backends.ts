/** Backends the bench measures beside ours: loaded from modules given with --backend. */
import type { Backend, DType } from '@mats/core';

export interface BenchBackend {
  /** Column label in the report (the backend's name and mode). */
  label: string;
  /** The module or package it came from. */
  source: string;
  /** The dtypes it supports (the module's `dtypes` export; both by default). */
  dtypes: readonly DType[];
  create(dtype: DType): Backend | Promise<Backend>;
}
