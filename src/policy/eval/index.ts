// Public surface of policy/eval (filled in by its issue).
export {};
