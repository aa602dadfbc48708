// @mats/merge: filled in by its issue.

export * from './statistics/index.js';
