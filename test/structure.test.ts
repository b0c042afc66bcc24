// The shape of src/: read from the import statements of every src/**/*.ts (the TypeScript parser,
// type-only imports included). No module imports itself back through others; the maths files
// reach no threading, command-line or notebook code; only the programs in src/apps/ import src/apps/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The modules a file names: `import … from`, `export … from`, `import()` and `require()` with a literal. */
function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push((node.arguments[0] as ts.StringLiteral).text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** src-relative name ('bptt.ts', 'apps/start.ts') for a local module; the package name for others. */
function resolve(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec.replace(/^node:/, '');
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return path.relative(SRC, candidate).split(path.sep).join('/');
  throw new Error(`${path.relative(SRC, from)} imports '${spec}', which is not a file of src/`);
}

const GRAPH = new Map<string, Set<string>>(
  sourceFiles(SRC).map((f) => [path.relative(SRC, f).split(path.sep).join('/'), new Set(specifiers(f).map((s) => resolve(f, s)))]),
);

function edges(): Map<string, Set<string>> {
  return new Map([...GRAPH].map(([k, v]) => [k, new Set(v)]));
}

/** Every module reachable from `start` (itself excluded), with the path that reaches it. */
function reachable(g: Map<string, Set<string>>, start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue: string[][] = [[start]];
  while (queue.length) {
    const route = queue.shift()!;
    for (const next of g.get(route[route.length - 1]!) ?? []) {
      if (seen.has(next) || next === start) continue;
      seen.set(next, [...route, next]);
      queue.push([...route, next]);
    }
  }
  return seen;
}

const MATHS = ['model.ts', 'loss.ts', 'clipping.ts', 'state.ts', 'predict.ts', 'bptt.ts'];
/** Threads, the command-line programs, and the notebooks' display and presets. */
const FORBIDDEN_FOR_MATHS = (m: string): boolean =>
  m.startsWith('apps/') ||
  ['data-parallel.ts', 'data-parallel-worker.ts', 'notebook.ts', 'plot.ts', 'figure-text.ts', 'backend.ts', 'worker_threads', 'tslab', 'child_process'].includes(m);

describe('the import graph of src/', () => {
  it('was read: every module, with its imports', () => {
    for (const m of [...MATHS, 'index.ts', 'notebook.ts', 'apps/start.ts', 'apps/args.ts']) assert.ok(GRAPH.has(m), m);
    assert.ok(GRAPH.get('apps/start.ts')!.has('apps/args.ts') && GRAPH.get('model.ts')!.has('@tensorflow/tfjs'), 'edges were found');
  });

  it('has no cycles', () => {
    const g = edges();
    const cycles = [...g.keys()].filter((m) => reachable(g, m).size && [...(g.get(m) ?? [])].some((n) => n === m || reachable(g, n).has(m)));
    assert.deepEqual(
      cycles.map((m) => {
        const back = [...g.get(m)!].find((n) => n === m || reachable(g, n).has(m))!;
        return [m, ...(back === m ? [] : reachable(g, back).get(m)!)].join(' → ');
      }),
      [],
    );
  });

  it('keeps the maths files free of threading, command-line and notebook code, directly or through others', () => {
    const g = edges();
    const bad = MATHS.flatMap((m) => [...reachable(g, m)].filter(([n]) => FORBIDDEN_FOR_MATHS(n)).map(([, route]) => route.join(' → ')));
    assert.deepEqual(bad, []);
  });

  it('lets only the programs in src/apps/ import src/apps/', () => {
    const bad = [...GRAPH].filter(([m, to]) => !m.startsWith('apps/') && [...to].some((n) => n.startsWith('apps/'))).map(([m]) => m);
    assert.deepEqual(bad, []);
  });
});
