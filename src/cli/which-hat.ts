// Placeholder until the issue that owns `hatter which-hat` lands; replaced wholesale by that work.
import { EXIT_USAGE, type Command } from './io.js';

export const command: Command = {
  name: 'which-hat',
  summary: '',
  help: 'hatter which-hat: not available in this build yet',
  async run(_args, io) {
    io.stderr.write('hatter which-hat: not available in this build yet\n');
    return EXIT_USAGE;
  },
};
