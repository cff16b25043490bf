// Public surface of logs (filled in by its issue).
export {};
