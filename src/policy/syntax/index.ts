// Public surface of policy/syntax (filled in by its issue).
export {};
