// Which layer may import which, read from the sources: every `import … from`, `import '…'`, `export … from` and
// dynamic `import('…')`, outside comments, strings and regular expressions.
//   - src/schedule imports nothing from src/bot, and not discord.js, not even for a type: jobs return plain outcomes;
//   - src/bot reaches src/schedule only through src/schedule/outcome.ts (the outcomes and the poster interface);
//   - src/ops imports nothing from src/bot or src/cli, nor discord.js or ssh2, not even for a type: operations know no
//     front and no transport;
//   - `mailops run-job` (its definition, commands/run-job.ts, and every module it loads through relative imports,
//     static or dynamic) never loads discord.js or a module of src/bot. Type-only imports (`import type`) load
//     nothing, so they are not followed here. The command line itself, which loads every definition before it runs
//     one, is watched loading in test/cli.test.ts.
// Test files beside the code (*.test.ts) may import anything they drive, and are not checked. Every offending import
// is reported with its file and line.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

interface ImportStatement {
  specifier: string;
  line: number;
  /** `import type …` or `export type … from`: erased before the code runs, so it loads nothing. */
  typeOnly?: true;
}

type Token = { kind: 'word' | 'string' | 'punct'; value: string; line: number };

/** Words after which a `/` starts a regular expression rather than a division. */
const beforeExpression = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** The tokens of a TypeScript source that matter here: words, string literals and punctuation, with their lines. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let index = 0;
  const advance = (to: number) => {
    for (let at = index; at < to; at++) if (source[at] === '\n') line++;
    index = to;
  };
  const previous = () => tokens.at(-1);
  // Template literals nest: `${` opens code inside a template, its `}` returns to the template.
  const braces: Array<'code' | 'template'> = [];
  const readTemplate = () => {
    // At the character after ` or after the } that closes a substitution.
    while (index < source.length) {
      const char = source[index];
      if (char === '\\') {
        advance(index + 2);
        continue;
      }
      if (char === '`') {
        advance(index + 1);
        return;
      }
      if (char === '$' && source[index + 1] === '{') {
        advance(index + 2);
        braces.push('template');
        return;
      }
      advance(index + 1);
    }
  };
  while (index < source.length) {
    const char = source[index] as string;
    const next = source[index + 1];
    if (char === '\n' || char === ' ' || char === '\t' || char === '\r') {
      advance(index + 1);
      continue;
    }
    if (char === '/' && next === '/') {
      const end = source.indexOf('\n', index);
      advance(end === -1 ? source.length : end);
      continue;
    }
    if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      advance(end === -1 ? source.length : end + 2);
      continue;
    }
    if (char === "'" || char === '"') {
      const start = line;
      let at = index + 1;
      let value = '';
      while (at < source.length && source[at] !== char) {
        if (source[at] === '\\') {
          value += source[at + 1] ?? '';
          at += 2;
          continue;
        }
        value += source.charAt(at);
        at++;
      }
      advance(at + 1);
      tokens.push({ kind: 'string', value, line: start });
      continue;
    }
    if (char === '`') {
      const start = line;
      advance(index + 1);
      readTemplate();
      tokens.push({ kind: 'string', value: '`', line: start });
      continue;
    }
    if (char === '/') {
      const before = previous();
      const regex =
        before === undefined ||
        (before.kind === 'punct' && !')]}'.includes(before.value)) ||
        (before.kind === 'word' && beforeExpression.has(before.value));
      if (regex) {
        let at = index + 1;
        let inClass = false;
        while (at < source.length && source[at] !== '\n') {
          const c = source[at];
          if (c === '\\') {
            at += 2;
            continue;
          }
          if (c === '[') inClass = true;
          else if (c === ']') inClass = false;
          else if (c === '/' && !inClass) break;
          at++;
        }
        advance(at + 1);
        while (index < source.length && /[a-z]/i.test(source[index] as string)) advance(index + 1);
        tokens.push({ kind: 'string', value: '/regex/', line });
        continue;
      }
    }
    if (/[A-Za-z_$]/.test(char)) {
      const match = /^[A-Za-z0-9_$]+/.exec(source.slice(index, index + 200)) as RegExpExecArray;
      tokens.push({ kind: 'word', value: match[0], line });
      advance(index + match[0].length);
      continue;
    }
    if (/[0-9]/.test(char)) {
      const match = /^[0-9A-Za-z_.]+/.exec(source.slice(index, index + 100)) as RegExpExecArray;
      tokens.push({ kind: 'word', value: match[0], line });
      advance(index + match[0].length);
      continue;
    }
    if (char === '{') braces.push('code');
    if (char === '}') {
      if (braces.pop() === 'template') {
        advance(index + 1);
        readTemplate();
        continue;
      }
    }
    tokens.push({ kind: 'punct', value: char, line });
    advance(index + 1);
  }
  return tokens;
}

/** Every module a source imports or re-exports from, statically or dynamically (with a literal specifier). */
export function importsOf(source: string): ImportStatement[] {
  const tokens = tokenize(source);
  const found: ImportStatement[] = [];
  const isPunct = (token: Token | undefined, value: string) => token?.kind === 'punct' && token.value === value;
  /** From a statement's first token: the string after its `from`, before the statement ends. */
  const fromClause = (start: number): Token | undefined => {
    let depth = 0;
    for (let at = start; at < tokens.length; at++) {
      const token = tokens[at] as Token;
      if (token.kind === 'punct' && token.value === '{') depth++;
      else if (token.kind === 'punct' && token.value === '}') depth--;
      else if (depth === 0 && token.kind === 'punct' && token.value === ';') return undefined;
      else if (depth === 0 && token.kind === 'word' && token.value === 'from' && tokens[at + 1]?.kind === 'string') return tokens[at + 1];
      else if (depth === 0 && token.kind === 'word' && (token.value === 'import' || token.value === 'export') && at > start)
        return undefined;
    }
    return undefined;
  };
  for (let at = 0; at < tokens.length; at++) {
    const token = tokens[at] as Token;
    if (token.kind !== 'word' || isPunct(tokens[at - 1], '.')) continue;
    const next = tokens[at + 1];
    if (token.value === 'import') {
      if (isPunct(next, '(')) {
        const argument = tokens[at + 2];
        if (argument?.kind === 'string' && argument.value !== '`' && argument.value !== '/regex/')
          found.push({ specifier: argument.value, line: argument.line });
        else found.push({ specifier: '(computed)', line: token.line });
        continue;
      }
      if (isPunct(next, '.')) continue; // import.meta
      if (next?.kind === 'string') {
        found.push({ specifier: next.value, line: next.line });
        continue;
      }
      const from = fromClause(at + 1);
      // `import type X from` and `import type { X } from`, but not `import type from 'x'` (a default import named type).
      const typeOnly =
        next?.kind === 'word' && next.value === 'type' && !(tokens[at + 2]?.kind === 'word' && tokens[at + 2]?.value === 'from');
      if (from) found.push({ specifier: from.value, line: from.line, ...(typeOnly ? { typeOnly } : {}) });
    } else if (token.value === 'export') {
      const typeOnly = next?.kind === 'word' && next.value === 'type';
      const first = typeOnly ? tokens[at + 2] : next;
      if (!isPunct(first, '{') && !isPunct(first, '*')) continue;
      const from = fromClause(at + 1);
      if (from) found.push({ specifier: from.value, line: from.line, ...(typeOnly ? { typeOnly } : {}) });
    }
  }
  return found;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(path.join(root, directory), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** A relative specifier as a path from the repository's root; a package name as it is. */
function target(file: string, specifier: string): string {
  return specifier.startsWith('.') ? path.normalize(path.join(path.dirname(file), specifier)) : specifier;
}

const isPackage = (name: string, target: string) => target === name || target.startsWith(`${name}/`);
const inside = (directory: string, target: string) => target.startsWith(`${directory}/`);
const discord = (target: string) => isPackage('discord.js', target) || target.startsWith('@discordjs/');

interface Offence {
  file: string;
  line: number;
  specifier: string;
}

const offences = (files: readonly string[], refused: (target: string, file: string) => boolean): Offence[] =>
  files.flatMap((file) =>
    importsOf(readFileSync(path.join(root, file), 'utf8'))
      .filter((statement) => refused(target(file, statement.specifier), file))
      .map((statement) => ({ file, line: statement.line, specifier: statement.specifier }))
  );

const listed = (found: readonly Offence[]) => found.map((offence) => `${offence.file}:${offence.line} imports ${offence.specifier}`);

interface ModuleGraph {
  /** Every module reached from the entry, with the import that first reached it. */
  reached: Map<string, Offence | undefined>;
  /** Every import of every module reached, with the module it names. */
  edges: Array<Offence & { module: string }>;
}

/** The modules `entry` loads through relative imports (static or dynamic; type-only imports load nothing). */
function moduleGraph(entry: string): ModuleGraph {
  const reached = new Map<string, Offence | undefined>([[entry, undefined]]);
  const edges: ModuleGraph['edges'] = [];
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const statement of importsOf(readFileSync(path.join(root, file), 'utf8'))) {
      if (statement.typeOnly) continue;
      const module = target(file, statement.specifier);
      edges.push({ file, line: statement.line, specifier: statement.specifier, module });
      if (reached.has(module)) continue;
      reached.set(module, { file, line: statement.line, specifier: statement.specifier });
      if (statement.specifier.startsWith('.')) queue.push(module);
    }
  }
  return { reached, edges };
}

/** How `module` was first reached from the entry: each import on the way. */
function chain(graph: ModuleGraph, module: string): string {
  const steps: string[] = [];
  for (let via = graph.reached.get(module); via !== undefined; via = graph.reached.get(via.file)) steps.unshift(`${via.file}:${via.line}`);
  return steps.join(' → ');
}

/** What `mailops run-job` runs: its definition. */
const runJobDefinition = 'commands/run-job.ts';

describe('reading imports', () => {
  it('finds static, type-only, re-exported, side-effect and dynamic imports, on their lines, and none in comments, strings or regular expressions', () => {
    const source = [
      'import { a,', // 1
      "  b } from './one.ts';", // 2
      "import type { C } from 'two';", // 3
      "export { d } from './three.ts';", // 4
      "export * from 'four';", // 5
      "import 'five';", // 6
      "const six = await import('./six.ts');", // 7
      "// import { e } from 'not-a-comment';", // 8
      "/* export * from 'not-a-block'; */", // 9
      'const text = "import x from \'not-a-string\'";', // 10
      "const pattern = /import('not-a-regex')/;", // 11
      "const template = `${import.meta.url} import('not-a-template')`;", // 12
      'export const seven = 7;', // 13
      "export type { F } from './eight.ts';", // 14
    ].join('\n');
    expect(importsOf(source)).toEqual([
      { specifier: './one.ts', line: 2 },
      { specifier: 'two', line: 3, typeOnly: true },
      { specifier: './three.ts', line: 4 },
      { specifier: 'four', line: 5 },
      { specifier: 'five', line: 6 },
      { specifier: './six.ts', line: 7 },
      { specifier: './eight.ts', line: 14, typeOnly: true },
    ]);
  });

  it('reads the whole tree: every module of src/schedule is found, and run-job reaches the runner', () => {
    expect(sourceFiles('src/schedule')).toEqual(
      expect.arrayContaining(['src/schedule/scheduler.ts', 'src/schedule/jobs/health.ts', 'src/schedule/outcome.ts'])
    );
    expect([...moduleGraph(runJobDefinition).reached.keys()]).toEqual(
      expect.arrayContaining(['src/cli/run-job.ts', 'src/schedule/runner.ts', 'src/schedule/jobs/health.ts', 'src/ops/check.ts'])
    );
  });
});

describe('import directions', () => {
  it('src/schedule imports nothing from src/bot, nor discord.js', () => {
    expect(listed(offences(sourceFiles('src/schedule'), (module) => inside('src/bot', module) || discord(module)))).toEqual([]);
  });

  it('src/bot reaches src/schedule only through src/schedule/outcome.ts', () => {
    expect(
      listed(offences(sourceFiles('src/bot'), (module) => inside('src/schedule', module) && module !== 'src/schedule/outcome.ts'))
    ).toEqual([]);
  });

  it('src/ops imports nothing from src/bot or src/cli, nor discord.js or ssh2', () => {
    const refused = (module: string) =>
      inside('src/bot', module) || inside('src/cli', module) || discord(module) || isPackage('ssh2', module);
    expect(listed(offences(sourceFiles('src/ops'), refused))).toEqual([]);
  });

  it('mailops run-job never loads discord.js, not even through a dynamic import', () => {
    const graph = moduleGraph(runJobDefinition);
    const offending = graph.edges.filter((edge) => discord(edge.module) || edge.module === '(computed)');
    // Each offending import, and how run-job reaches the file that holds it.
    expect(
      offending.map(
        (edge) => `${edge.file}:${edge.line} imports ${edge.specifier} (reached: ${chain(graph, edge.file) || 'run-job itself'})`
      )
    ).toEqual([]);
  });
});
