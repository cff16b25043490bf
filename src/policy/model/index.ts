// Public surface of policy/model (filled in by its issue).
export {};
