// Public surface of policy/format (filled in by its issue).
export {};
