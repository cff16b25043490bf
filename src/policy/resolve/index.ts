// Public surface of policy/resolve (filled in by its issue).
export {};
