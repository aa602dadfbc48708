/**
 * fisher (diagonal Fisher merging; Matena & Raffel, "Merging Models with Fisher-Weighted
 * Averaging", 2022; METHODS.md): C_i = w_i diag(F_i), so
 *   theta = sum_i w_i F_i theta_i / sum_i w_i F_i,
 * with F_i floored at `floor` (the MaTS reference code's 1e-8): a coordinate no task cares
 * about gets the weighted average. Solved by core: the Sum of Diagonals is one Diagonal, whose
 * solve is elementwise, so the method is elementwise and large tensors go through in chunks.
 * Tensors without a Fisher in every model are averaged, and the report says so.
 */
import { solve } from '@mats/core';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { defineMethod } from './method.js';
import { DEFAULT_FISHER_FLOOR } from './statistic-factors.js';
import { subspaceNeeds } from './subspace.js';
import { mergeInSubspace } from './subspace-merge.js';

export const fisherParameters = z.strictObject({
  /** Fisher entries below it are raised to it (0 keeps them: a coordinate no task sees gets 0). */
  floor: z.number().finite().gte(0).default(DEFAULT_FISHER_FLOOR).describe('Fisher entries below it are raised to it (the MaTS reference code\'s 1e-8): a coordinate no task cares about gets the weighted average'),
});

export const fisher = defineMethod({
  name: 'fisher',
  summary: 'diagonal Fisher merging: sum_i w_i F_i theta_i / sum_i w_i F_i (needs fisher statistics)',
  parameters: fisherParameters,
  requiresBase: () => false,
  elementwise: () => true,
  statistics: (tensor) => subspaceNeeds(tensor, 'diagonal'),
  // Inputs aside: the running sum and one model's F (a floored copy, its upload, core's host
  // copy each), a theta upload, the rhs, a term, the solution and its host copy.
  workingBytes: (length) => length * 8 * 12,
  async merge(job, { parameters, backend, log }) {
    return mergeInSubspace(job, 'diagonal', backend, { floor: parameters.floor, shrink: 1, damping: 0 }, async (system) => {
      const result = solve(system.system, system.rhs);
      const values = backend.toArray(result.x);
      backend.dispose(result.x);
      // leastSquares (a zero summed Fisher entry where b is not 0): keep it, and say so.
      if (result.status === 'leastSquares') log(`warning: tensor ${job.name}: ${result.message}; the merge keeps it`);
      else if (result.status !== 'converged') {
        throw new UserError(`tensor ${job.name}: Fisher merging failed (${result.status}): ${result.message}`);
      }
      return { values, report: { details: { subspace: 'diagonal', rule: result.method, ...(result.note !== undefined ? { note: result.note } : {}) } } };
    });
  },
});
