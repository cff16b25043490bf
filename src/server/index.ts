// Public surface of server (filled in by its issue).
export {};
