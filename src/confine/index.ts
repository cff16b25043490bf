// Public surface of confine (filled in by its issue).
export {};
