// The corpus: The Time Machine as d2l reads it, user files refused with reasons, and the download
// (checked, atomic) against a local HTTP server — no internet needed.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCorpus } from '../src/batches';
import {
  CorpusError,
  defaultDataDir,
  downloadTimeMachine,
  MAX_CORPUS_BYTES,
  preprocessLine,
  preprocessText,
  readCorpusLines,
  readTextFile,
  readTimeMachine,
  sha1,
  TIME_MACHINE_FILE,
  TIME_MACHINE_SHA1,
} from '../src/corpus';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-corpus-test-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let tmpCount = 0;
const tmpDir = () => fs.mkdtempSync(path.join(tmpRoot, `${tmpCount++}-`));

function realBook(): Buffer {
  const dir = process.env.RNN_WORKBOOK_DATA;
  assert.ok(dir, 'set RNN_WORKBOOK_DATA to the folder holding timemachine.txt (../shared/data from the repo root)');
  return fs.readFileSync(path.join(dir, TIME_MACHINE_FILE));
}

describe('The Time Machine as d2l reads it', () => {
  it('is found through RNN_WORKBOOK_DATA', () => {
    assert.ok(process.env.RNN_WORKBOOK_DATA, 'run the tests with RNN_WORKBOOK_DATA=../shared/data');
    assert.equal(defaultDataDir(), path.resolve(process.env.RNN_WORKBOOK_DATA!));
  });

  it('has 3,221 lines and 170,580 characters after preprocessing', async () => {
    const lines = await readTimeMachine();
    assert.equal(lines.length, 3221);
    assert.equal(lines.reduce((n, l) => n + l.length, 0), 170580);
    assert.equal(lines[0], 'the time machine by h g wells');
    assert.ok(lines.every((l) => /^[a-z ]*$/.test(l)), 'only lowercase letters and spaces remain');
  });

  it('has 28 character tokens, numbered in d2l\u2019s published order', async () => {
    const { corpus, vocab } = buildCorpus(await readTimeMachine());
    assert.equal(corpus.length, 170580);
    assert.equal(vocab.size, 28);
    assert.deepEqual(vocab.idxToToken.slice(0, 10), ['<unk>', ' ', 'e', 't', 'a', 'i', 'n', 'o', 's', 'h']);
  });
});

describe('preprocessing', () => {
  it('turns every run of non-letters into one space, then trims and lowercases', () => {
    assert.equal(preprocessLine('The Time-Machine, by H. G. Wells [1898]'), 'the time machine by h g wells');
    assert.equal(preprocessLine('  ...Hello!!  World?? '), 'hello world');
    assert.equal(preprocessLine('café 42'), 'caf');
    assert.equal(preprocessLine('--- 123 ---'), '');
  });

  it('keeps empty lines, treats a final newline as ending the last line, and ignores \\r', () => {
    assert.deepEqual(preprocessText('One\n\nTwo!\n'), ['one', '', 'two']);
    assert.deepEqual(preprocessText('One\r\nTwo'), ['one', 'two']);
    assert.deepEqual(preprocessText('a\n\n'), ['a', '']);
  });
});

describe('readTextFile and readCorpusLines', () => {
  const refuses = (file: string, message: RegExp) =>
    assert.throws(() => readTextFile(file), (e: Error) => e instanceof CorpusError && message.test(e.message) && e.message.includes(file));

  it('reads a plain text file', () => {
    const file = path.join(tmpDir(), 'ok.txt');
    fs.writeFileSync(file, 'Hello, world\n');
    assert.equal(readTextFile(file), 'Hello, world\n');
  });

  it('refuses a missing file', () => refuses(path.join(tmpDir(), 'nope.txt'), /does not exist; pass a text file with --corpus FILE/));

  it('refuses a directory', () => refuses(tmpDir(), /is a directory/));

  it('refuses an empty file', () => {
    const file = path.join(tmpDir(), 'empty.txt');
    fs.writeFileSync(file, '');
    refuses(file, /is empty/);
  });

  it('refuses a binary file with NUL bytes', () => {
    const file = path.join(tmpDir(), 'binary.bin');
    fs.writeFileSync(file, Buffer.from([0x68, 0x69, 0x00, 0x21]));
    refuses(file, /looks binary \(it has NUL bytes\)/);
  });

  it('refuses a file over the size limit without reading it', () => {
    const file = path.join(tmpDir(), 'huge.txt');
    fs.writeFileSync(file, 'a');
    fs.truncateSync(file, MAX_CORPUS_BYTES + 1); // sparse: takes no disk space
    refuses(file, /over the 32 MiB limit/);
  });

  it('refuses a user corpus with no letters after preprocessing', async () => {
    const file = path.join(tmpDir(), 'digits.txt');
    fs.writeFileSync(file, '123 456\n!!!\n');
    await assert.rejects(readCorpusLines({ corpusFile: file }), (e: Error) => e instanceof CorpusError && /no letters A–Z/.test(e.message));
  });

  it('preprocesses a user corpus like The Time Machine', async () => {
    const file = path.join(tmpDir(), 'mine.txt');
    fs.writeFileSync(file, 'Call me Ishmael.\nSome years ago--\n');
    assert.deepEqual(await readCorpusLines({ corpusFile: file }), ['call me ishmael', 'some years ago']);
  });
});

/** A local server answering every request with `body` (or `status`), counting the requests. */
async function serve(body: Uint8Array, status = 200) {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/timemachine.txt`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('downloadTimeMachine', () => {
  it('downloads into the data folder, checks the sha1 and leaves no temporary file', async () => {
    const book = realBook();
    assert.equal(sha1(book), TIME_MACHINE_SHA1);
    const server = await serve(book);
    try {
      const dataDir = path.join(tmpDir(), 'not', 'yet', 'there');
      const file = await downloadTimeMachine(dataDir, server.url);
      assert.equal(file, path.join(dataDir, TIME_MACHINE_FILE));
      assert.equal(sha1(fs.readFileSync(file)), TIME_MACHINE_SHA1);
      assert.deepEqual(fs.readdirSync(dataDir), [TIME_MACHINE_FILE]);
      assert.equal(await downloadTimeMachine(dataDir, server.url), file);
      assert.equal(server.hits(), 1, 'a verified local copy is not downloaded again');
      assert.equal((await readTimeMachine({ dataDir })).length, 3221);
    } finally {
      await server.close();
    }
  });

  it('refuses bytes with the wrong sha1 and saves nothing', async () => {
    const wrong = Buffer.from(realBook());
    wrong[100] ^= 0x20; // one letter's case flipped
    const server = await serve(wrong);
    try {
      const dataDir = tmpDir();
      await assert.rejects(
        downloadTimeMachine(dataDir, server.url),
        (e: Error) => e instanceof CorpusError && e.message.includes(server.url) && /sha1 [0-9a-f]{40}, expected/.test(e.message) && /nothing was saved/.test(e.message),
      );
      assert.deepEqual(fs.readdirSync(dataDir), []);
    } finally {
      await server.close();
    }
  });

  it('reports an HTTP error status as a CorpusError naming the URL', async () => {
    const server = await serve(Buffer.from('not found'), 404);
    try {
      const dataDir = tmpDir();
      await assert.rejects(downloadTimeMachine(dataDir, server.url), (e: Error) => e instanceof CorpusError && /HTTP 404/.test(e.message) && e.message.includes(server.url));
      assert.deepEqual(fs.readdirSync(dataDir), []);
    } finally {
      await server.close();
    }
  });

  it('explains an unreachable URL in one error naming the file, the URL and RNN_WORKBOOK_DATA', async () => {
    const server = await serve(Buffer.from(''));
    const url = server.url;
    await server.close(); // nothing listens on that port any more
    const dataDir = tmpDir();
    await assert.rejects(downloadTimeMachine(dataDir, url), (e: Error) => {
      assert.ok(e instanceof CorpusError, `${e.name}: ${e.message}`);
      assert.ok(e.message.includes(TIME_MACHINE_FILE), e.message);
      assert.ok(e.message.includes(url), e.message);
      assert.ok(e.message.includes(dataDir), e.message);
      assert.ok(e.message.includes('RNN_WORKBOOK_DATA'), e.message);
      return true;
    });
  });

  it('refuses an existing file with the wrong sha1, leaving it in place and downloading nothing', async () => {
    const server = await serve(realBook());
    try {
      const dataDir = tmpDir();
      const file = path.join(dataDir, TIME_MACHINE_FILE);
      fs.writeFileSync(file, 'a truncated download\n');
      await assert.rejects(
        downloadTimeMachine(dataDir, server.url),
        (e: Error) => e instanceof CorpusError && e.message.includes(file) && /expected 090b5e7e/.test(e.message) && /delete it/.test(e.message),
      );
      assert.equal(fs.readFileSync(file, 'utf8'), 'a truncated download\n');
      assert.equal(server.hits(), 0);
    } finally {
      await server.close();
    }
  });
});
