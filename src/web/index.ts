// Public surface of web (filled in by its issue).
export {};
