// The message catalogs and the words in the C code (tests/lint/i18n.test.mjs runs it; run
// `node tests/lint/i18n.mjs` for the report and the count of C lines with Chinese literals).
//
// Every word shown to people comes from data/i18n/{zh,en}.json and data/i18n/{zh,en}/*.json
// through M(r, key), MF(r, key, MA(name, value)...), MC(r, prefix, code), view_msg and
// view_fmt in C, {{t.key}} in templates, and N_("key") for keys kept in tables. check()
// finds:
//   - a key in one language and not in the other (or in another file);
//   - placeholders ({name}) that differ between the two languages of a key;
//   - a key used in C or a template that no catalog holds;
//   - a catalog key used nowhere (keys under a prefix given to MC count as used);
//   - a line of C under src/ with a string literal holding a Chinese character, or an
//     escape spelling one (\u4e2d, \xe4\xb8\xad, octal), beyond the allow-list
//     tests/lint/i18n-allow.json (file -> number of lines and why: data, never words for
//     people).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LANGS = ['zh', 'en'];
/** Calls whose argument at index `arg` is a message key (every literal in it counts). */
const KEY_CALLS = {
  M: 1, MF: 1, view_msg: 2, view_fmt: 3, VF: 3, N_: 0,
  // booking's refusals: the detail of a GH_E code from a key (bk_failf with its placeholders)
  bk_fail: 2, bk_failf: 2,
};
/** Calls whose argument at index `arg` is a prefix of keys completed at run time. */
const PREFIX_CALLS = { MC: 1 };
const CJK = /[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/;
const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

function walk(dir, exts, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, out);
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out.sort();
}

/** The catalogs under root: {zh: Map key -> {text, file}, en: ...} and the problems found. */
export function loadCatalogs(root = ROOT) {
  const dir = path.join(root, 'data/i18n');
  const cats = {};
  const problems = [];
  for (const lang of LANGS) {
    const m = new Map();
    const files = [path.join(dir, `${lang}.json`), ...walk(path.join(dir, lang), ['.json'])].filter(existsSync);
    for (const f of files) {
      const rel = path.relative(dir, f);
      let obj;
      try {
        obj = JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        problems.push(`${rel}: ${e.message}`);
        continue;
      }
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v !== 'string') problems.push(`${rel}: "${k}" is not a string`);
        else if (m.has(k)) problems.push(`${rel}: "${k}" is already in ${m.get(k).file}`);
        else m.set(k, { text: v, file: rel.replace(/^(zh|en)(\/|\.json$)/, '$2') });
      }
    }
    cats[lang] = m;
  }
  return { cats, problems };
}

/** Blanks comments out of C source, keeping strings, line breaks and positions. */
export function stripCComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const j = text.indexOf('*/', i + 2);
      const end = j < 0 ? text.length : j + 2;
      out += text.slice(i, end).replace(/[^\n]/g, ' ');
      i = end;
    } else if (c === '/' && text[i + 1] === '/') {
      let j = text.indexOf('\n', i);
      if (j < 0) j = text.length;
      out += ' '.repeat(j - i);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The string literals of C code (comments already blanked): [{value, raw, line}]. */
export function cStrings(code) {
  const found = [];
  const re = /"((?:[^"\\\n]|\\.)*)"/g;
  // Character literals may hold a quote: skip them first.
  const text = code.replace(/'(?:[^'\\\n]|\\.)*'/g, (m) => ' '.repeat(m.length));
  for (const m of text.matchAll(re)) {
    const line = text.slice(0, m.index).split('\n').length;
    found.push({ raw: m[1], line, index: m.index });
  }
  return found;
}

/** The arguments of each call of name in code: [{args: [text...], line}]. */
function calls(code, name) {
  const out = [];
  const re = new RegExp(`(?<![A-Za-z0-9_])${name}\\s*\\(`, 'g');
  for (const m of code.matchAll(re)) {
    if (/#\s*define\s+$/.test(code.slice(code.lastIndexOf('\n', m.index) + 1, m.index))) continue;
    const args = [];
    let depth = 0;
    let cur = '';
    let i = m.index + m[0].length;
    for (; i < code.length; i++) {
      const c = code[i];
      if (c === '"' || c === "'") {
        let j = i + 1;
        while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
        cur += code.slice(i, j + 1);
        i = j;
        continue;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) break;
        depth--;
      }
      if (c === ',' && depth === 0) {
        args.push(cur);
        cur = '';
        continue;
      }
      cur += c;
    }
    args.push(cur);
    out.push({ args, line: code.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The string literals of an argument that are its values: not those inside a call or a
 * parenthesised condition in it (`M(r, strcmp(kind, "reveal") == 0 ? "a" : "b")` -> a, b). */
function literals(arg) {
  const strs = [];
  let s = arg.replace(/"((?:[^"\\]|\\.)*)"/g, (m, v) => `\u0001${strs.push(v) - 1}\u0001`);
  for (let prev; prev !== s; ) {
    prev = s;
    s = s.replace(/\([^()]*\)/g, '');
  }
  return [...s.matchAll(/\u0001(\d+)\u0001/g)].map((m) => strs[Number(m[1])]);
}

/** Keys and prefixes used by the C sources, templates and scripts under root. */
export function usedKeys(root = ROOT) {
  const keys = new Map(); // key -> first place
  const prefixes = new Map();
  const dynamic = []; // key arguments with no literal: where they are
  const note = (m, k, where) => m.has(k) || m.set(k, where);
  for (const f of walk(path.join(root, 'src'), ['.c', '.h'])) {
    const rel = path.relative(root, f);
    const code = stripCComments(readFileSync(f, 'utf8'));
    for (const [name, arg] of Object.entries(KEY_CALLS)) {
      for (const c of calls(code, name)) {
        const a = c.args[arg];
        if (a === undefined) continue;
        const lits = literals(a);
        for (const k of lits) note(keys, k, `${rel}:${c.line}`);
        if (!lits.length) dynamic.push(`${rel}:${c.line}`);
      }
    }
    for (const [name, arg] of Object.entries(PREFIX_CALLS)) {
      for (const c of calls(code, name)) {
        for (const p of literals(c.args[arg] ?? '')) note(prefixes, p, `${rel}:${c.line}`);
      }
    }
  }
  for (const f of walk(path.join(root, 'templates'), ['.mustache'])) {
    const rel = path.relative(root, f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\{\{\{?\s*[#^/&]?\s*t\.([A-Za-z0-9_]+)/g)) {
      note(keys, m[1], `${rel}:${text.slice(0, m.index).split('\n').length}`);
    }
  }
  for (const f of walk(path.join(root, 'static'), ['.js'])) {
    const rel = path.relative(root, f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\bt\.([A-Za-z0-9_]+)|N_\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)/g)) {
      note(keys, m[1] ?? m[2], `${rel}:${text.slice(0, m.index).split('\n').length}`);
    }
  }
  return { keys, prefixes, dynamic };
}

/** Whether a C string literal's text holds a Chinese character, written or escaped. */
export function holdsCJK(raw) {
  if (CJK.test(raw)) return true;
  for (const m of raw.matchAll(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g)) {
    if (CJK.test(String.fromCodePoint(parseInt(m[1] ?? m[2], 16)))) return true;
  }
  // UTF-8 written as hex or octal escapes: decode the escaped bytes and look again.
  const bytes = [];
  for (const m of raw.matchAll(/\\x([0-9a-fA-F]{1,2})|\\([0-7]{1,3})|([^\\])/g)) {
    if (m[1]) bytes.push(parseInt(m[1], 16));
    else if (m[2]) bytes.push(parseInt(m[2], 8) & 0xff);
    else bytes.push(...Buffer.from(m[3], 'utf8'));
  }
  return CJK.test(Buffer.from(bytes).toString('utf8'));
}

/** Lines of C under root/src with a Chinese string literal: Map file -> [line numbers]. */
export function cjkLines(root = ROOT) {
  const out = new Map();
  for (const f of walk(path.join(root, 'src'), ['.c', '.h', '.inc', '.def'])) {
    const rel = path.relative(root, f);
    const code = stripCComments(readFileSync(f, 'utf8'));
    const lines = new Set();
    for (const s of cStrings(code)) if (holdsCJK(s.raw)) lines.add(s.line);
    if (lines.size) out.set(rel, [...lines].sort((a, b) => a - b));
  }
  return out;
}

function placeholders(text) {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort().join(',');
}

/** Every problem of the catalogs and the sources under root, as sentences. */
export function check(root = ROOT) {
  const { cats, problems } = loadCatalogs(root);
  const { zh, en } = cats;
  for (const [a, b] of [['zh', 'en'], ['en', 'zh']]) {
    for (const [k, v] of cats[a]) {
      const o = cats[b].get(k);
      if (!o) problems.push(`"${k}" is in ${a} (${a}${v.file || '.json'}) but not in ${b}`);
      else if (o.file !== v.file && a === 'zh') problems.push(`"${k}" is in zh${v.file || '.json'} but en${o.file || '.json'}`);
    }
  }
  for (const [k, v] of zh) {
    const o = en.get(k);
    if (o && placeholders(v.text) !== placeholders(o.text)) {
      problems.push(`"${k}": placeholders differ: zh {${placeholders(v.text)}} en {${placeholders(o.text)}}`);
    }
  }
  const { keys, prefixes } = usedKeys(root);
  for (const [k, where] of keys) if (!zh.has(k) && !en.has(k)) problems.push(`${where}: key "${k}" is in no catalog`);
  for (const [p, where] of prefixes) {
    if (![...zh.keys()].some((k) => k.startsWith(p))) problems.push(`${where}: no catalog key starts with "${p}"`);
  }
  const allowFile = path.join(root, 'tests/lint/i18n-allow.json');
  const allowDoc = existsSync(allowFile) ? JSON.parse(readFileSync(allowFile, 'utf8')) : {};
  const allow = allowDoc.files ?? {};
  const pending = new Set(allowDoc.unused_pending ?? []);
  const prefixList = [...prefixes.keys()];
  for (const k of new Set([...zh.keys(), ...en.keys()])) {
    if (!keys.has(k) && !prefixList.some((p) => k.startsWith(p)) && !pending.has(k)) {
      problems.push(`catalog key "${k}" is used nowhere`);
    }
  }
  for (const [file, lines] of cjkLines(root)) {
    const ok = allow[file]?.lines ?? 0;
    if (lines.length > ok) {
      problems.push(`${file}: ${lines.length} lines with Chinese string literals (allowed ${ok}): lines ${lines.join(', ')}`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const lines = cjkLines();
  let n = 0;
  for (const [f, l] of lines) {
    n += l.length;
    if (process.argv.includes('-v')) console.log(`${String(l.length).padStart(4)} ${f}`);
  }
  const problems = check();
  for (const p of problems) console.log(p);
  console.log(`i18n: ${n} lines of C with Chinese string literals, ${problems.length} problems`);
  process.exit(problems.length ? 1 : 0);
}
