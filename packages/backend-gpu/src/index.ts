// @mats/backend-gpu: filled in by its issue.
