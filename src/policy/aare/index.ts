// Public surface of policy/aare (filled in by its issue).
export {};
