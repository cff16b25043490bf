// Placeholder until the issue that owns `hatter serve` lands; replaced wholesale by that work.
import { EXIT_USAGE, type Command } from './io.js';

export const command: Command = {
  name: 'serve',
  summary: '',
  help: 'hatter serve: not available in this build yet',
  async run(_args, io) {
    io.stderr.write('hatter serve: not available in this build yet\n');
    return EXIT_USAGE;
  },
};
