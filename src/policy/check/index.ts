// Public surface of policy/check (filled in by its issue).
export {};
