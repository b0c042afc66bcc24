// The command-line programs' help is built from the values they run with: every default shown is
// the one DEFAULTS (or the program's own constant) holds, and every config flag is documented.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flagLines } from '../src/apps/args';
import { HELP as GENERATE_HELP } from '../src/apps/generate';
import { FLAG_OF, HELP as START_HELP } from '../src/apps/start';
import { DEFAULTS, type RNNConfig } from '../src/config';

/** The default a help text shows for `--flag`, as written: the last parenthesised value of its entry. */
function shownDefault(help: string, flag: string): string | undefined {
  const lines = help.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${flag} `));
  if (at < 0) return undefined;
  let entry = lines[at]!;
  for (let i = at + 1; i < lines.length && /^ {24}\S/.test(lines[i]!); i++) entry += `\n${lines[i]}`;
  return /\(([^()]*)\)\s*$/.exec(entry)?.[1];
}

describe('npm start --help', () => {
  it('documents every flag that sets a config key, with DEFAULTS as its default', () => {
    const keys = Object.keys(FLAG_OF) as (keyof RNNConfig)[];
    assert.ok(keys.length >= 12, `only ${keys.length} config flags`);
    for (const key of keys) {
      const flag = FLAG_OF[key]!;
      const shown = shownDefault(START_HELP, flag);
      if (key === 'prefix') assert.match(shown ?? '', new RegExp(`^"${DEFAULTS.prefix}"`), flag);
      else assert.equal(shown, String(DEFAULTS[key]), flag);
    }
  });
});

describe('npm run generate --help', () => {
  it("shows d2l's prefix as the default prefix", () => {
    assert.equal(shownDefault(GENERATE_HELP, '--prefix'), JSON.stringify(DEFAULTS.prefix));
  });
});

describe('flagLines', () => {
  it('aligns help and defaults in columns, continuing long help on indented lines', () => {
    assert.equal(
      flagLines([
        { flag: 'epochs', arg: 'N', help: 'epochs to train', default: 500 },
        { flag: 'json', help: 'one JSON line\nat the end' },
        { flag: 'num-val', arg: 'N', help: 'held out;\nprinted every epoch; 0 = none, as in the recipe of the book', default: 5000 },
      ]),
      [
        `  --epochs N            epochs to train${' '.repeat(26)}(500)`,
        '  --json                one JSON line',
        '                        at the end',
        '  --num-val N           held out;',
        '                        printed every epoch; 0 = none, as in the recipe of the book (5000)',
      ].join('\n'),
    );
  });
});
