/**
 * Not implemented yet: this package reserves its name, exports map and build so the workspace
 * layout of DESIGN.md is in place. See the package README for the issue that tracks it.
 */
export {};
