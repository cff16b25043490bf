// Text from a user's file is quoted in diagnostic messages, which end up on a terminal: control
// characters (an ESC sequence in a hostile file, a stray CR or NUL in binary garbage) must not reach
// it raw, and a message must stay one line.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with C0/C1 control characters and DEL written as `\xNN` (everything else unchanged). */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
