// Anchor for the shutdown benchmark: the cost of starting and ending a bare runtime process.
export {};
