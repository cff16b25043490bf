// Placeholder until the issue that owns `hatter logs` lands; replaced wholesale by that work.
import { EXIT_USAGE, type Command } from './io.js';

export const command: Command = {
  name: 'logs',
  summary: '',
  help: 'hatter logs: not available in this build yet',
  async run(_args, io) {
    io.stderr.write('hatter logs: not available in this build yet\n');
    return EXIT_USAGE;
  },
};
