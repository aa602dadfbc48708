// @mats/merge: filled in by its issue.
